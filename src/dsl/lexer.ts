// Tokens of the .adapt language. Comments go to their own group so the formatter can keep them;
// keywords are matched before identifiers but yield to longer identifiers (`models`, `head_type`);
// `adapters` is listed before `adapter` so that the longer keyword gets its chance first.
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_-]*/ });

const keywordWords: string[] = [];

const keyword = (name: string, word: string, categories: TokenType[] = []): TokenType => {
  keywordWords.push(word);
  return createToken({
    name,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories,
  });
};

export const BlockName = createToken({ name: 'BlockName', pattern: Lexer.NA });
export const StatementKeyword = createToken({ name: 'StatementKeyword', pattern: Lexer.NA });

export const Model = keyword('Model', 'model', [StatementKeyword]);
export const Store = keyword('Store', 'store', [StatementKeyword]);
export const Include = keyword('Include', 'include', [StatementKeyword]);
export const AdapterKw = keyword('AdapterKw', 'adapter', [StatementKeyword]);
export const FusionKw = keyword('FusionKw', 'fusion', [StatementKeyword]);
export const HeadKw = keyword('HeadKw', 'head', [StatementKeyword]);
export const Setup = keyword('Setup', 'setup', [StatementKeyword]);
export const Train = keyword('Train', 'train', [StatementKeyword]);
export const Merge = keyword('Merge', 'merge', [StatementKeyword]);
export const Load = keyword('Load', 'load');
export const Without = keyword('Without', 'without');
export const Drop = keyword('Drop', 'drop');
export const Random = keyword('Random', 'random');
export const Unfreeze = keyword('Unfreeze', 'unfreeze');
export const AdaptersKw = keyword('AdaptersKw', 'adapters');
export const True = keyword('True', 'true');
export const False = keyword('False', 'false');
export const Null = keyword('Null', 'null');

export const BLOCK_NAMES = [
  'Stack',
  'Fuse',
  'Split',
  'BatchSplit',
  'Parallel',
  'Average',
  'MultiTask',
] as const;
const blockTokens = BLOCK_NAMES.map((name) => keyword(`Block${name}`, name, [BlockName]));
export const FuseKw = blockTokens[1];

/** Every reserved word: these cannot be used as names. */
export const KEYWORDS: ReadonlySet<string> = new Set(keywordWords);

export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n\r]|\\.)*"/ });
export const NumberLit = createToken({ name: 'NumberLit', pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
export const Range = createToken({ name: 'Range', pattern: /\.\./ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /}/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const Pipe = createToken({ name: 'Pipe', pattern: /\|/ });
export const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\n\r]*/, group: 'comments' });
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED });

export const ALL_TOKENS: TokenType[] = [
  WhiteSpace,
  Comment,
  StatementKeyword,
  BlockName,
  Model,
  Store,
  Include,
  AdaptersKw,
  AdapterKw,
  FusionKw,
  HeadKw,
  Setup,
  Train,
  Merge,
  Load,
  Without,
  Drop,
  Random,
  Unfreeze,
  True,
  False,
  Null,
  ...blockTokens,
  Identifier,
  StringLit,
  NumberLit,
  Range,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Equals,
  Pipe,
];

export const adaptLexer = new Lexer(ALL_TOKENS, { positionTracking: 'full', ensureOptimizations: false });
