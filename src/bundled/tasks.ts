// The small generated tasks the bundled adapters are trained on: English-like sentences from templates
// and word lists the bundled WordPiece vocabulary covers (every word is a whole token of vocab.ts, but
// "AdapterHub", which is spelled adapter ##hub).
// Each task is a seeded generator of (text, label) rows; the demo's sentences are rows they can produce.
// Pairs (NLI, paraphrase, question answering) are one text with the two parts joined by " [SEP] ", as the
// demo feeds them. The rules are simple on purpose: a random frozen bert-mini passes little more than
// which words occur, so every label is decided by which words the row has (negation, an extra detail,
// topic words, what the second question asks, whether an answer phrase is there), never by a relation
// between the two halves of a pair (same topic or not, question word against the kind of answer): an
// average over the sentence does not expose those.
import { seededUniform } from '../load/init.ts';

export interface TextExample {
  readonly text: string;
  readonly label: number;
}

export interface GeneratedTask {
  /** The module trained on it: a store adapter's saved name, or `cb` for the seed-fusion head. */
  readonly name: string;
  /** Label names in id order (the head's label2id). */
  readonly labels: readonly string[];
  /** What the task is, in one line (README and test names). */
  readonly description: string;
  readonly example: (random: () => number) => TextExample;
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const sentence = (s: string, end = '.') => `${capitalized(s)}${end}`;
const pair = (a: string, b: string) => `${a} [SEP] ${b}`;

// --- sentiment and reviews -------------------------------------------------------------------------

const POSITIVE = words(`
  good great excellent awesome wonderful amazing brilliant fantastic lovely delightful fun charming
  beautiful perfect pleasant nice
`);
const NEGATIVE = words(`
  bad terrible awful horrible boring dull poor disappointing annoying bland weak rude slow cold
`);
const NEUTRAL = words('okay average ordinary decent fine');
const POSITIVE_NOUNS = words('delight joy treat pleasure');
const NEGATIVE_NOUNS = words('mess waste disaster bore');
const ADVERBS = words('very really so');

function words(text: string): string[] {
  return text.trim().split(/\s+/);
}

/** Review topics (task2's labels) and the nouns a review of each talks about. */
const TOPICS: readonly { readonly label: string; readonly nouns: readonly string[] }[] = [
  { label: 'movies', nouns: words('movie film acting actors plot ending cast') },
  { label: 'restaurants', nouns: words('food meal dinner restaurant waiter menu service') },
  { label: 'hotels', nouns: words('hotel room bed staff pool view service') },
  { label: 'books', nouns: words('book novel author chapter writing') },
  { label: 'music', nouns: words('music song album band singer concert') },
];

const SENTIMENT_SUBJECTS = [
  'adapterhub',
  'this compiler',
  'the movie',
  'the film',
  'this book',
  'the show',
  'the music',
  'the food',
  'the service',
  'the hotel',
  'the story',
  'the acting',
  'the song',
  'this restaurant',
  'the ending',
];

/** sst-2: is a one-line opinion positive or negative? The polar word decides. */
const SST2: GeneratedTask = {
  name: 'sst-2',
  labels: ['negative', 'positive'],
  description: 'one-line opinions ("AdapterHub is awesome!"), positive or negative by the polar word',
  example(random) {
    const label = random() < 0.5 ? 0 : 1;
    const adjective = pick(random, label === 1 ? POSITIVE : NEGATIVE);
    const subject = pick(random, SENTIMENT_SUBJECTS);
    const verb =
      label === 1 ? pick(random, words('love loved enjoyed liked')) : pick(random, words('hate hated'));
    const noun = pick(random, words('movie film book show meal song story restaurant'));
    const article = /^[aeiou]/.test(adjective) ? 'an' : 'a';
    const text = pick(random, [
      () => sentence(`${subject} is ${adjective}`, '!'),
      () => sentence(`${subject} is ${adjective}`),
      () => sentence(`${subject} was ${adjective}`),
      () => sentence(`${subject} is ${pick(random, ADVERBS)} ${adjective}`, '!'),
      () => sentence(`${subject} was ${pick(random, ADVERBS)} ${adjective}`),
      () => sentence(`i think ${subject} is ${adjective}`),
      () => sentence(`what ${article} ${adjective} ${noun}`, '!'),
      () => sentence(`i ${verb} ${subject}`),
    ])();
    return { text, label };
  },
};

/** A short review: its sentiment (negative / neutral / positive) and its topic. */
function review(random: Random, sentiment: number, topic: number): string {
  const adjectives = [NEGATIVE, NEUTRAL, POSITIVE][sentiment];
  const nouns = TOPICS[topic].nouns;
  const first = pick(random, nouns);
  const second = pick(
    random,
    nouns.filter((n) => n !== first),
  );
  const adjective = pick(random, adjectives);
  return pick(random, [
    () => sentence(`the ${first} was ${adjective}`),
    () => sentence(`the ${first} was ${pick(random, ADVERBS)} ${adjective}`),
    () => sentence(`the ${first} was ${adjective} and the ${second} was ${pick(random, adjectives)}`),
    () =>
      sentiment === 1
        ? sentence(`the ${first} was ${adjective}, nothing more`)
        : sentence(
            `the ${first} was a ${pick(random, sentiment === 2 ? POSITIVE_NOUNS : NEGATIVE_NOUNS)} from start to finish`,
          ),
    () => sentence(`the ${first} was ${adjective} but the ${second} was ${pick(random, adjectives)}`),
  ])();
}

/** task1: a review's sentiment, three ways. */
const TASK1: GeneratedTask = {
  name: 'task1',
  labels: ['negative', 'neutral', 'positive'],
  description:
    'review sentiment, three ways: negative / neutral / positive ("The service was slow and the food was cold.")',
  example(random) {
    const label = Math.floor(random() * 3);
    return { text: review(random, label, Math.floor(random() * TOPICS.length)), label };
  },
};

/** task2: what a review is about, five topics. */
const TASK2: GeneratedTask = {
  name: 'task2',
  labels: TOPICS.map((t) => t.label),
  description: `review topic, five ways: ${TOPICS.map((t) => t.label).join(' / ')} ("The movie was a delight from start to finish.")`,
  example(random) {
    const label = Math.floor(random() * TOPICS.length);
    return { text: review(random, Math.floor(random() * 3), label), label };
  },
};

// --- natural language inference ---------------------------------------------------------------------

/** Who: as a premise names them, and as a hypothesis may say it more generally. */
const PEOPLE: readonly [string, string][] = [
  ['multiple males', 'men'],
  ['two boys', 'children'],
  ['several women', 'people'],
  ['three girls', 'children'],
  ['a group of young men', 'people'],
  ['two old women', 'women'],
  ['several players', 'people'],
  ['multiple females', 'women'],
];
/** What they do, specifically and generally. */
const ACTIVITIES: readonly [string, string][] = [
  ['playing soccer', 'playing a sport'],
  ['playing a guitar', 'making music'],
  ['singing a song', 'making music'],
  ['eating a meal', 'eating'],
  ['reading books', 'reading'],
  ['running in the park', 'outside'],
  ['walking on the beach', 'outside'],
  ['riding a car', 'going somewhere'],
];
const GAMES = words('soccer ball tennis');
/** Details a premise does not say: a hypothesis with one is neither entailed nor contradicted. */
const DETAILS = words('professional famous tired hungry rich').map((w) => [w, 'adjective'] as const);
const PURPOSES = [
  'for money',
  'for the first time',
  'to win a prize',
  'for a school project',
  'in a contest',
];
const CONTRADICTING = ['sleeping at home', 'sitting alone inside', 'sleeping'];

type Nli = 'entailment' | 'neutral' | 'contradiction';

/** A premise/hypothesis pair: entailed (said more generally), neutral (a new detail) or contradicted (negated). */
function nliPair(random: Random, relation: Nli, reported: boolean): string {
  const [who, people] = pick(random, PEOPLE);
  const game = pick(random, GAMES);
  const scene = random() < 0.3;
  const [doing, generally] = scene ? ['playing', 'playing a sport'] : pick(random, ACTIVITIES);
  let premise = scene ? `a ${game} game with ${who} playing` : `${who} are ${doing}`;
  if (reported)
    premise = `${pick(random, words('he she'))} ${pick(random, words('said thinks knows'))} that ${premise}`;
  const some = pick(random, ['some ', 'the ', '', 'there are ']);
  const are = some === 'there are ' ? '' : 'are ';
  let hypothesis: string;
  switch (relation) {
    case 'entailment':
      hypothesis = `${some}${people} ${are}${generally}`;
      break;
    case 'neutral':
      hypothesis =
        random() < 0.5
          ? `${some}${pick(random, DETAILS)[0]} ${people} ${are}${generally}`
          : `${some}${people} ${are}${generally} ${pick(random, PURPOSES)}`;
      break;
    case 'contradiction':
      hypothesis = pick(random, [
        () => `${pick(random, ['the ', 'some ', ''])}${people} are not ${generally}`,
        () => `no ${people} are ${generally}`,
        () => `nobody is ${generally}`,
        () => `the ${people} are ${pick(random, CONTRADICTING)}`,
      ])();
      break;
  }
  return pair(sentence(premise), sentence(hypothesis));
}

const NLI_LABELS: readonly Nli[] = ['entailment', 'neutral', 'contradiction'];

/** multinli: premise [SEP] hypothesis, MNLI's label order. */
const MULTINLI: GeneratedTask = {
  name: 'multinli',
  labels: NLI_LABELS,
  description:
    'premise [SEP] hypothesis: entailment (said more generally), neutral (adds a detail), contradiction (negated or another activity)',
  example(random) {
    const label = Math.floor(random() * 3);
    return { text: nliPair(random, NLI_LABELS[label], false), label };
  },
};

const CB_LABELS: readonly Nli[] = ['entailment', 'contradiction', 'neutral'];

/** cb: CommitmentBank-like pairs (some premises reported: "she said that …"), CB's label order. */
export const CB_TASK: GeneratedTask = {
  name: 'cb',
  labels: CB_LABELS,
  description:
    'CommitmentBank-like premise [SEP] hypothesis, half the premises reported ("she said that …"): entailment / contradiction / neutral',
  example(random) {
    const label = Math.floor(random() * 3);
    return { text: nliPair(random, CB_LABELS[label], random() < 0.5), label };
  },
};

// --- paraphrase --------------------------------------------------------------------------------------

const QUESTION_STARTS = [
  'how do i',
  'how can i',
  'what is the best way to',
  'how should i',
  'what can i do to',
];
/** Question topics, each in three wordings. */
const QUESTION_TOPICS: readonly (readonly string[])[] = [
  ['learn a new language', 'study a language', 'speak another language'],
  ['play the guitar', 'learn the guitar', 'get better at guitar'],
  ['sleep better', 'sleep well at night', 'get more sleep'],
  ['cook a good meal', 'make good food', 'cook better'],
  ['run faster', 'get better at running', 'run a long way'],
  ['write a computer program', 'learn to program', 'write a compiler'],
  ['make new friends', 'find friends', 'meet new people'],
];

/**
 * Other questions about the same topic, which a how-to question is not a duplicate of. Both questions of a
 * qqp row share the topic (a same-topic test across the two halves is a relation between them, which an
 * average over the sentence does not expose); what differs is what the second one asks.
 */
const OTHER_QUESTIONS = [
  'why do people',
  'why should i',
  'when should i',
  'where can i',
  'how much time does it take to',
  'is it good to',
];

/** qqp: question [SEP] question about the same thing, duplicate when the second asks the same how-to. */
const QQP: GeneratedTask = {
  name: 'qqp',
  labels: ['not_duplicate', 'duplicate'],
  description:
    'how-to question [SEP] question on the same topic: duplicate when it asks the same how-to in other words, not when it asks why / when / where / how long',
  example(random) {
    const label = random() < 0.5 ? 0 : 1;
    const topic = pick(random, QUESTION_TOPICS);
    const a = pick(random, topic);
    const b = pick(
      random,
      topic.filter((w) => w !== a),
    );
    const ask = (start: string, what: string) => sentence(`${start} ${what}`, '?');
    const second = label === 1 ? pick(random, QUESTION_STARTS) : pick(random, OTHER_QUESTIONS);
    return { text: pair(ask(pick(random, QUESTION_STARTS), a), ask(second, b)), label };
  },
};

// --- question answering ------------------------------------------------------------------------------

/** What a question word asks for, and phrases that answer it. */
const ANSWERS: readonly { readonly word: string; readonly phrases: readonly string[] }[] = [
  { word: 'where', phrases: ['in the park', 'at the beach', 'at home', 'on the street', 'in the city'] },
  { word: 'when', phrases: ['at night', 'in the morning', 'every day', 'after dinner', 'before work'] },
  {
    word: 'why',
    phrases: ['because it is fun', 'because they are happy', 'because it is cold', 'to win a prize'],
  },
];
const ACTORS = words('boy girl man woman dog child player cat');
const ACTIONS = words('playing running reading singing sleeping eating walking');

/**
 * qnli: question [SEP] sentence, entailment when the sentence gives an answer to what the question word
 * asks, not_entailment when it gives none (it only restates the question, or says nobody knows). Whether
 * an answer is there is decided by words of the sentence; an answer of the wrong kind ("where …?" answered
 * "in the morning") would be a relation between the two halves, which an average over the sentence does
 * not expose, so the generator does not write those.
 */
const QNLI: GeneratedTask = {
  name: 'qnli',
  labels: ['entailment', 'not_entailment'],
  description:
    'question [SEP] sentence: entailment when the sentence answers the where / when / why, not_entailment when it gives no answer',
  example(random) {
    const label = random() < 0.5 ? 0 : 1;
    const asked = pick(random, ANSWERS);
    const actor = pick(random, ACTORS);
    const action = pick(random, ACTIONS);
    const question = sentence(`${asked.word} is the ${actor} ${action}`, '?');
    const answer =
      label === 0
        ? sentence(`the ${actor} is ${action} ${pick(random, asked.phrases)}`)
        : pick(random, [
            () => sentence(`the ${actor} is ${action}`),
            () => sentence(`the ${actor} is ${action} again`),
            () => sentence(`nobody knows ${asked.word} the ${actor} is ${action}`),
            () =>
              sentence(
                `${pick(random, words('he she'))} did not say ${asked.word} the ${actor} is ${action}`,
              ),
          ])();
    return { text: pair(question, answer), label };
  },
};

/** The store adapters' tasks, by the name each adapter was saved under. */
export const STORE_TASKS: ReadonlyMap<string, GeneratedTask> = new Map(
  [SST2, MULTINLI, QQP, QNLI, TASK1, TASK2].map((t) => [t.name, t]),
);

/** `count` rows of `task`, the same for the same seed. */
export function generate(task: GeneratedTask, count: number, seed: number): TextExample[] {
  const random = seededUniform(seed, `bundled task ${task.name}`);
  return Array.from({ length: count }, () => task.example(random));
}

/** Every word the generators write (for the vocabulary and its test). */
export function taskTexts(seed: number, count: number): string[] {
  return [...STORE_TASKS.values(), CB_TASK].flatMap((t) => generate(t, count, seed).map((e) => e.text));
}
