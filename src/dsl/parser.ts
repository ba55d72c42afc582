// The .adapt parser: chevrotain CST grammar with error recovery, then a CST → AST conversion.
// Statements are parsed one at a time (the token stream is cut before each statement keyword), so a
// broken statement never hides the errors or the declarations of the ones after it.
import { type CstElement, type CstNode, CstParser, type IToken, type TokenType } from 'chevrotain';
import { closestName } from '../config/fields.ts';
import type {
  AdapterSource,
  BlockType,
  Comment,
  ConfigCall,
  Expr,
  Ident,
  KeyValue,
  LayerSet,
  Program,
  Span,
  Statement,
  Value,
} from './ast.ts';
import { type Diagnostic, error, spanAt } from './diagnostics.ts';
import {
  AdapterKw,
  AdaptersKw,
  ALL_TOKENS,
  adaptLexer,
  BLOCK_NAMES,
  BlockName,
  Colon,
  Comma,
  Drop,
  Equals,
  False,
  FuseKw,
  FusionKw,
  HeadKw,
  Identifier,
  Include,
  LBrace,
  LBracket,
  Load,
  LParen,
  Merge,
  Model,
  Null,
  NumberLit,
  Pipe,
  Random,
  Range,
  RBrace,
  RBracket,
  RParen,
  Setup,
  StatementKeyword,
  Store,
  StringLit,
  Train,
  True,
  Unfreeze,
  Without,
} from './lexer.ts';

class AdaptCstParser extends CstParser {
  constructor() {
    super(ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full' });
    this.performSelfAnalysis();
  }

  statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.pathStatement) },
      { ALT: () => this.SUBRULE(this.adapterStatement) },
      { ALT: () => this.SUBRULE(this.fusionStatement) },
      { ALT: () => this.SUBRULE(this.headStatement) },
      { ALT: () => this.SUBRULE(this.setupStatement) },
      { ALT: () => this.SUBRULE(this.trainStatement) },
      { ALT: () => this.SUBRULE(this.mergeStatement) },
    ]);
  });

  pathStatement = this.RULE('pathStatement', () => {
    this.OR([
      { ALT: () => this.CONSUME(Model, { LABEL: 'keyword' }) },
      { ALT: () => this.CONSUME(Store, { LABEL: 'keyword' }) },
      { ALT: () => this.CONSUME(Include, { LABEL: 'keyword' }) },
    ]);
    this.CONSUME(StringLit, { LABEL: 'path' });
  });

  adapterStatement = this.RULE('adapterStatement', () => {
    this.CONSUME(AdapterKw);
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.CONSUME(Equals);
    this.OR([
      { ALT: () => this.SUBRULE(this.loadSource) },
      { ALT: () => this.CONSUME(StringLit, { LABEL: 'configString' }) },
      {
        ALT: () => {
          this.SUBRULE(this.configCall, { LABEL: 'configs' });
          this.MANY(() => {
            this.CONSUME(Pipe);
            this.SUBRULE2(this.configCall, { LABEL: 'configs' });
          });
        },
      },
    ]);
  });

  loadSource = this.RULE('loadSource', () => {
    this.CONSUME(Load);
    this.CONSUME(StringLit, { LABEL: 'ref' });
    this.OPTION(() => {
      this.CONSUME(Without);
      this.CONSUME(HeadKw, { LABEL: 'withoutHead' });
    });
  });

  configCall = this.RULE('configCall', () => {
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(LParen);
      this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.keyValue, { LABEL: 'args' }) });
      this.CONSUME(RParen);
    });
  });

  keyValue = this.RULE('keyValue', () => {
    this.OR([
      { ALT: () => this.CONSUME(Identifier, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(StringLit, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(NumberLit, { LABEL: 'key' }) },
    ]);
    this.CONSUME(Colon);
    this.SUBRULE(this.value);
  });

  value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLit, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(StringLit, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(True, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(False, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(Null, { LABEL: 'literal' }) },
      { ALT: () => this.CONSUME(Identifier, { LABEL: 'literal' }) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.map) },
    ]);
  });

  list = this.RULE('list', () => {
    this.CONSUME(LBracket);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.value, { LABEL: 'items' }) });
    this.CONSUME(RBracket);
  });

  map = this.RULE('map', () => {
    this.CONSUME(LBrace);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.keyValue, { LABEL: 'entries' }) });
    this.CONSUME(RBrace);
  });

  fusionStatement = this.RULE('fusionStatement', () => {
    this.CONSUME(FusionKw);
    this.CONSUME(FuseKw);
    this.CONSUME(LParen);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.CONSUME(Identifier, { LABEL: 'adapters' }) });
    this.CONSUME(RParen);
    this.CONSUME(Equals);
    this.OR([{ ALT: () => this.SUBRULE(this.loadSource) }, { ALT: () => this.SUBRULE(this.configCall) }]);
  });

  headStatement = this.RULE('headStatement', () => {
    this.CONSUME(HeadKw);
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.CONSUME(Equals);
    this.OR([{ ALT: () => this.SUBRULE(this.loadSource) }, { ALT: () => this.SUBRULE(this.configCall) }]);
  });

  setupStatement = this.RULE('setupStatement', () => {
    this.CONSUME(Setup);
    this.SUBRULE(this.expr);
    this.OPTION(() => this.SUBRULE(this.dropClause));
  });

  dropClause = this.RULE('dropClause', () => {
    this.CONSUME(Drop);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.layerItem, { LABEL: 'items' }) });
  });

  layerItem = this.RULE('layerItem', () => {
    this.CONSUME(NumberLit, { LABEL: 'from' });
    this.OPTION(() => {
      this.CONSUME(Range);
      this.CONSUME2(NumberLit, { LABEL: 'to' });
    });
  });

  trainStatement = this.RULE('trainStatement', () => {
    this.CONSUME(Train);
    this.OR([
      { ALT: () => this.CONSUME(AdapterKw, { LABEL: 'target' }) },
      { ALT: () => this.CONSUME(FusionKw, { LABEL: 'target' }) },
    ]);
    this.SUBRULE(this.expr);
    this.OPTION(() => {
      this.CONSUME(Unfreeze);
      this.CONSUME(AdaptersKw);
    });
    this.OPTION2(() => {
      this.CONSUME(Drop);
      this.CONSUME(Random);
      this.SUBRULE(this.layerItem, { LABEL: 'randomDrop' });
    });
  });

  mergeStatement = this.RULE('mergeStatement', () => {
    this.CONSUME(Merge);
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.CONSUME(Identifier, { LABEL: 'names' }) });
  });

  expr = this.RULE('expr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(HeadKw);
          this.CONSUME(Identifier, { LABEL: 'head' });
        },
      },
      { ALT: () => this.CONSUME2(Identifier, { LABEL: 'adapter' }) },
      { ALT: () => this.SUBRULE(this.block) },
    ]);
  });

  block = this.RULE('block', () => {
    this.CONSUME(BlockName, { LABEL: 'type' });
    this.CONSUME(LParen);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.blockArg, { LABEL: 'args' }) });
    this.CONSUME(RParen);
  });

  blockArg = this.RULE('blockArg', () => {
    this.OR([
      {
        GATE: () => this.LA(2).tokenType === Colon,
        ALT: () => this.SUBRULE(this.keyValue, { LABEL: 'kwarg' }),
      },
      { ALT: () => this.SUBRULE(this.expr, { LABEL: 'child' }) },
    ]);
  });
}

const parser = new AdaptCstParser();

// ---- token stream → statement chunks ----

/** Tokens after which a statement keyword is part of the current statement, not the start of a new one. */
const CONTINUES: ReadonlyMap<TokenType, readonly TokenType[]> = new Map([
  [AdapterKw, [Train]],
  [FusionKw, [Train]],
  [HeadKw, [LParen, Comma, Setup, Without, AdapterKw, FusionKw]],
]);

function startsStatement(token: IToken, previous: IToken | undefined): boolean {
  if (!token.tokenType.CATEGORIES?.includes(StatementKeyword)) return false;
  const continuing = CONTINUES.get(token.tokenType);
  return !(continuing && previous && continuing.includes(previous.tokenType));
}

function splitStatements(tokens: readonly IToken[]): IToken[][] {
  const chunks: IToken[][] = [];
  tokens.forEach((token, i) => {
    if (chunks.length === 0 || startsStatement(token, tokens[i - 1])) chunks.push([]);
    chunks[chunks.length - 1].push(token);
  });
  return chunks;
}

// ---- CST → AST ----

/** Raised inside the conversion when a needed part is missing after recovery; the statement is dropped. */
class Incomplete extends Error {}

class Converter {
  constructor(
    private readonly file: string,
    private readonly text: string,
    private readonly diagnostics: Diagnostic[],
  ) {}

  private spanOfOffsets(start: number, endInclusive: number): Span {
    if (!Number.isFinite(start) || !Number.isFinite(endInclusive)) throw new Incomplete();
    return spanAt(this.file, this.text, start, endInclusive + 1);
  }

  tokenSpan(token: IToken): Span {
    if (token.isInsertedInRecovery) throw new Incomplete();
    return this.spanOfOffsets(token.startOffset, token.endOffset ?? token.startOffset);
  }

  nodeSpan(node: CstNode): Span {
    const location = node.location;
    if (!location || node.recoveredNode) throw new Incomplete();
    return this.spanOfOffsets(location.startOffset, location.endOffset ?? location.startOffset);
  }

  private token(node: CstNode, label: string): IToken {
    const found = node.children[label]?.[0];
    if (!found || !isToken(found) || found.isInsertedInRecovery) throw new Incomplete();
    return found;
  }

  private optionalToken(node: CstNode, label: string): IToken | null {
    const found = node.children[label]?.[0];
    return found && isToken(found) && !found.isInsertedInRecovery ? found : null;
  }

  private node(node: CstNode, label: string): CstNode {
    const found = node.children[label]?.[0];
    if (!found || isToken(found)) throw new Incomplete();
    return found;
  }

  private optionalNode(node: CstNode, label: string): CstNode | null {
    const found = node.children[label]?.[0];
    return found && !isToken(found) ? found : null;
  }

  private nodes(node: CstNode, label: string): CstNode[] {
    return (node.children[label] ?? []).filter((e): e is CstNode => !isToken(e));
  }

  private ident(token: IToken): Ident {
    return { kind: 'ident', name: token.image, span: this.tokenSpan(token) };
  }

  private string(token: IToken): string {
    try {
      return JSON.parse(token.image) as string;
    } catch {
      this.diagnostics.push(
        error('syntax', 'invalid escape in string', this.tokenSpan(token), 'use \\" \\\\ \\n \\t or \\uXXXX'),
      );
      throw new Incomplete();
    }
  }

  statement(cst: CstNode): Statement {
    const [kind] = Object.keys(cst.children);
    const inner = this.node(cst, kind);
    const span = this.nodeSpan(inner);
    switch (kind) {
      case 'pathStatement': {
        const keyword = this.token(inner, 'keyword').tokenType;
        const path = this.string(this.token(inner, 'path'));
        const statementKind = keyword === Model ? 'model' : keyword === Store ? 'store' : 'include';
        return { kind: statementKind, path, span };
      }
      case 'adapterStatement':
        return {
          kind: 'adapter',
          name: this.ident(this.token(inner, 'name')),
          source: this.adapterSource(inner),
          span,
        };
      case 'fusionStatement': {
        const adapters = (inner.children.adapters ?? []).filter(isToken).map((t) => this.ident(t));
        const load = this.optionalNode(inner, 'loadSource');
        const source = load
          ? ({ kind: 'load', ref: this.string(this.token(load, 'ref')), span: this.nodeSpan(load) } as const)
          : this.newSource(this.node(inner, 'configCall'));
        return { kind: 'fusion', adapters, source, span };
      }
      case 'headStatement': {
        const load = this.optionalNode(inner, 'loadSource');
        const source = load
          ? ({ kind: 'load', ref: this.string(this.token(load, 'ref')), span: this.nodeSpan(load) } as const)
          : this.newSource(this.node(inner, 'configCall'));
        return { kind: 'head', name: this.ident(this.token(inner, 'name')), source, span };
      }
      case 'setupStatement': {
        const drop = this.optionalNode(inner, 'dropClause');
        return {
          kind: 'setup',
          expr: this.expr(this.node(inner, 'expr')),
          drop: drop ? this.layerSet(drop) : null,
          span,
        };
      }
      case 'trainStatement': {
        const random = this.optionalNode(inner, 'randomDrop');
        const randomDrop = random ? this.range(random) : null;
        return {
          kind: 'train',
          target: this.token(inner, 'target').tokenType === FusionKw ? 'fusion' : 'adapter',
          expr: this.expr(this.node(inner, 'expr')),
          unfreezeAdapters: this.optionalToken(inner, 'Unfreeze') !== null,
          randomDrop,
          span,
        };
      }
      case 'mergeStatement': {
        const names = (inner.children.names ?? []).filter(isToken).map((t) => this.ident(t));
        return { kind: 'merge', names, span };
      }
      default:
        throw new Incomplete();
    }
  }

  private newSource(call: CstNode): { kind: 'new'; config: ConfigCall; span: Span } {
    const config = this.configCall(call);
    return { kind: 'new', config, span: config.span };
  }

  private adapterSource(node: CstNode): AdapterSource {
    const load = this.optionalNode(node, 'loadSource');
    if (load)
      return {
        kind: 'load',
        ref: this.string(this.token(load, 'ref')),
        withHead: this.optionalToken(load, 'withoutHead') === null,
        span: this.nodeSpan(load),
      };
    const configString = this.optionalToken(node, 'configString');
    if (configString)
      return { kind: 'config-string', text: this.string(configString), span: this.tokenSpan(configString) };
    const configs = this.nodes(node, 'configs').map((c) => this.configCall(c));
    if (configs.length === 0) throw new Incomplete();
    const span = { ...configs[0].span, end: configs[configs.length - 1].span.end };
    return { kind: 'new', configs, span };
  }

  private configCall(node: CstNode): ConfigCall {
    return {
      kind: 'config-call',
      name: this.ident(this.token(node, 'name')),
      args: this.nodes(node, 'args').map((a) => this.keyValue(a)),
      span: this.nodeSpan(node),
    };
  }

  private keyValue(node: CstNode): KeyValue {
    const keyToken = this.token(node, 'key');
    const name = keyToken.tokenType === StringLit ? this.string(keyToken) : keyToken.image;
    return {
      key: { kind: 'ident', name, span: this.tokenSpan(keyToken) },
      value: this.value(this.node(node, 'value')),
      span: this.nodeSpan(node),
    };
  }

  private value(node: CstNode): Value {
    const span = this.nodeSpan(node);
    const list = this.optionalNode(node, 'list');
    if (list) return { kind: 'list', items: this.nodes(list, 'items').map((i) => this.value(i)), span };
    const map = this.optionalNode(node, 'map');
    if (map) return { kind: 'map', entries: this.nodes(map, 'entries').map((e) => this.keyValue(e)), span };
    const literal = this.token(node, 'literal');
    switch (literal.tokenType) {
      case NumberLit:
        return { kind: 'number', value: Number(literal.image), text: literal.image, span };
      case StringLit:
        return { kind: 'string', value: this.string(literal), span };
      case True:
      case False:
        return { kind: 'bool', value: literal.tokenType === True, span };
      case Null:
        return { kind: 'null', span };
      default:
        return { kind: 'word', value: literal.image, span };
    }
  }

  private layerSet(node: CstNode): LayerSet {
    const items = this.nodes(node, 'items').map((item) => {
      const to = this.optionalToken(item, 'to');
      const from = Number(this.token(item, 'from').image);
      const span = this.nodeSpan(item);
      return to
        ? ({ kind: 'range', from, to: Number(to.image), span } as const)
        : ({ kind: 'layer', index: from, span } as const);
    });
    return { items, span: this.nodeSpan(node) };
  }

  private range(node: CstNode): { from: number; to: number; span: Span } {
    const to = this.optionalToken(node, 'to');
    const from = Number(this.token(node, 'from').image);
    return { from, to: to ? Number(to.image) : from, span: this.nodeSpan(node) };
  }

  expr(node: CstNode): Expr {
    const span = this.nodeSpan(node);
    const head = this.optionalToken(node, 'head');
    if (head) return { kind: 'head-ref', name: this.ident(head), span };
    const adapter = this.optionalToken(node, 'adapter');
    if (adapter) return { kind: 'adapter-ref', name: this.ident(adapter), span };
    const block = this.node(node, 'block');
    const typeToken = this.token(block, 'type');
    const args = this.nodes(block, 'args');
    return {
      kind: 'block',
      type: typeToken.image as BlockType,
      typeSpan: this.tokenSpan(typeToken),
      children: args.flatMap((a) => {
        const child = this.optionalNode(a, 'child');
        return child ? [this.expr(child)] : [];
      }),
      kwargs: args.flatMap((a) => {
        const kwarg = this.optionalNode(a, 'kwarg');
        return kwarg ? [this.keyValue(kwarg)] : [];
      }),
      span,
    };
  }
}

const isToken = (element: CstElement): element is IToken => 'image' in element;

export interface ParseResult {
  readonly program: Program;
  readonly diagnostics: readonly Diagnostic[];
}

const STATEMENT_HINT =
  'a statement starts with model, store, include, adapter, fusion, head, setup, train or merge';

/** Parses .adapt text. Never throws: problems come back as diagnostics, broken statements are left out. */
export function parseText(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = adaptLexer.tokenize(text);
  for (const e of lexed.errors) {
    const span = spanAt(file, text, e.offset, e.offset + e.length);
    diagnostics.push(
      error('syntax', `unexpected character ${JSON.stringify(text.slice(e.offset, e.offset + 1))}`, span),
    );
  }
  const comments: Comment[] = (lexed.groups.comments ?? []).map((t) => ({
    text: t.image.replace(/\s+$/, ''),
    span: spanAt(file, text, t.startOffset, (t.endOffset ?? t.startOffset) + 1),
  }));
  const converter = new Converter(file, text, diagnostics);
  const statements: Statement[] = [];
  for (const chunk of splitStatements(lexed.tokens)) {
    const first = chunk[0];
    if (!first.tokenType.CATEGORIES?.includes(StatementKeyword)) {
      const last = chunk[chunk.length - 1];
      const span = spanAt(file, text, first.startOffset, (last.endOffset ?? last.startOffset) + 1);
      diagnostics.push(
        error('syntax', `expected a statement, found ${describe(first)}`, span, STATEMENT_HINT),
      );
      continue;
    }
    parser.input = chunk;
    const cst = parser.statement();
    for (const e of parser.errors) diagnostics.push(syntaxDiagnostic(e.token, e.message, chunk, file, text));
    try {
      if (cst) statements.push(converter.statement(cst));
    } catch (e) {
      if (!(e instanceof Incomplete)) throw e;
    }
  }
  return { program: { file, statements, comments, source: text }, diagnostics };
}

const describe = (token: IToken): string => `\`${token.image}\``;

/** Chevrotain's messages, shortened; the span is the offending token, or the end of the statement. */
function syntaxDiagnostic(
  token: IToken,
  message: string,
  chunk: readonly IToken[],
  file: string,
  text: string,
): Diagnostic {
  const atEnd = token.tokenType.name === 'EOF' || !Number.isFinite(token.startOffset);
  const last = chunk[chunk.length - 1];
  const start = atEnd ? (last.endOffset ?? last.startOffset) + 1 : token.startOffset;
  const end = atEnd ? start + 1 : (token.endOffset ?? token.startOffset) + 1;
  const found = atEnd ? 'end of statement' : `\`${token.image}\``;
  const expected = expectedFrom(message);
  const misspelt = atEnd ? null : misspeltBlock(chunk, token);
  return misspelt
    ? error(
        'syntax',
        `unknown block \`${misspelt.token.image}\``,
        spanAt(
          file,
          text,
          misspelt.token.startOffset,
          (misspelt.token.endOffset ?? misspelt.token.startOffset) + 1,
        ),
        `did you mean \`${misspelt.block}\`?`,
      )
    : error(
        'syntax',
        `unexpected ${found}${expected ? `, expected ${expected}` : ': the statement ends before it'}`,
        spanAt(file, text, start, end),
      );
}

/** `Stak(a, b)`: a name right before the offending `(` that looks like a block name. */
function misspeltBlock(chunk: readonly IToken[], token: IToken): { token: IToken; block: string } | null {
  const previous = chunk[chunk.indexOf(token) - 1];
  if (token.tokenType !== LParen || previous?.tokenType !== Identifier) return null;
  const block = closestName(previous.image, BLOCK_NAMES);
  return block ? { token: previous, block } : null;
}

const TOKEN_WORDS: Readonly<Record<string, string>> = {
  Identifier: 'a name',
  StringLit: 'a string',
  NumberLit: 'a number',
  LParen: '`(`',
  RParen: '`)`',
  LBracket: '`[`',
  RBracket: '`]`',
  LBrace: '`{`',
  RBrace: '`}`',
  Comma: '`,`',
  Colon: '`:`',
  Equals: '`=`',
  Pipe: '`|`',
  Range: '`..`',
  BlockName: 'a block (Stack, Fuse, ...)',
  EOF: 'end of statement',
};

/** Turns chevrotain's "Expecting: one of these possible Token sequences: ..." into a short list. */
function expectedFrom(message: string): string {
  const names = [...message.matchAll(/\[([A-Za-z]+)\]|--> ([A-Za-z]+) <--|<([A-Za-z]+)>/g)].map(
    (m) => m[1] ?? m[2] ?? m[3],
  );
  const words = [...new Set(names.map((n) => TOKEN_WORDS[n] ?? keywordWord(n)))];
  return words.slice(0, 6).join(', ');
}

const keywordWord = (tokenName: string): string => {
  const type = ALL_TOKENS.find((t) => t.name === tokenName);
  const source = type?.PATTERN instanceof RegExp ? type.PATTERN.source : tokenName;
  return `\`${source}\``;
};
