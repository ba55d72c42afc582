// The bundled model's WordPiece vocabulary, laid out as BERT's vocab.txt is: special tokens, then
// punctuation, digits and letters, then whole words, then `##` continuations. Every lowercase ASCII
// word and number can be spelled with it (single characters and their ## forms), so no sentence of the
// demo or of the generated tasks falls back to [UNK].

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** The characters BertPreTokenizer splits off as words of their own (ASCII punctuation). */
const PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
const DIGITS = [...'0123456789'];
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];

const words = (text: string): string[] => text.trim().split(/\s+/);

/**
 * Words for the demo sentences (sentiment, premise/hypothesis pairs, two-task inputs) and the small
 * task generators: function words, a sentiment lexicon, people, places, activities.
 */
export const BUNDLED_WORDS: readonly string[] = [
  // function words
  ...words(`
    the a an and or but not no is are was were be been being has have had do does did will would can
    could should may might of to in on at by for with from about into over under after before than then
    as so very too also just only even still really this that these those it its he she they we you i
    his her their our my your there here what who which when where why how all some any each every many
    much more most few one two three first last other another same such own if while because until out
    up down off again never always often nothing something everything
  `),
  // sentiment
  ...words(`
    good great excellent awesome wonderful amazing brilliant fantastic lovely delight delightful fun
    funny charming beautiful best better enjoy enjoyed love loved like liked happy pleasant perfect
    fresh warm friendly nice bad terrible awful horrible boring dull worst worse poor hate hated sad
    slow cold rude mess waste weak bland annoying disappointing fail
  `),
  // reviews
  ...words(`
    movie film story plot acting actor actors cast scene scenes ending music book show service food meal
    restaurant hotel room staff price time start finish minutes hours day night way thing things lot
  `),
  // people, places, activities
  ...words(`
    man men male males female females woman women child children boy girl people person dog cat player
    players team game sport soccer ball guitar song street park city house home school car water beach
    field table road world work play playing played run running walk walking sit sitting eat eating read
    reading sing singing sleep sleeping ride riding make made see saw go going went come came say said
    know think want get take multiple several group young old big small long new red blue green outside
    inside together alone near around
  `),
  // questions and paraphrase
  ...words(`
    question questions answer different true false yes learn language model models task tasks data
    computer program compiler adapter adapters fusion sentence word words text
  `),
  // the generated training tasks (src/bundled/tasks.ts): reviews, topics, NLI details, questions
  ...words(`
    okay average ordinary decent fine joy treat pleasure bore disaster dinner menu waiter bed pool view
    novel author chapter writing album band singer concert books boys girls famous professional tired
    hungry rich money prize contest project morning nobody somewhere making thinks knows tennis cook
    faster find friends meet speak study well win write
  `),
];

/** Common continuations; single ##letters below spell out anything else. */
const SUFFIXES = words('##s ##es ##ed ##ing ##ly ##er ##est ##ness ##ful ##hub ##ion');

/** Tokens in id order (line n of vocab.txt is id n); repeated words are kept once. */
export function bundledVocabulary(): readonly string[] {
  const tokens = [
    ...SPECIAL_TOKENS,
    ...PUNCTUATION,
    ...DIGITS,
    ...LETTERS,
    ...BUNDLED_WORDS,
    ...SUFFIXES,
    ...[...DIGITS, ...LETTERS].map((c) => `##${c}`),
  ];
  return [...new Set(tokens)];
}
