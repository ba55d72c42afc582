// The checker's rules, Langium-style: each a named, small, pure function from the environment to
// diagnostics. All rules run on every program, so that every problem is reported at once.
import { adapterLocations, closestName, methodFamilies, singleConfigs } from '../config/index.ts';
import type { MethodFamily } from '../config/types.ts';
import type { BlockType, ConfigCall, Expr, KeyValue, Span, Value } from './ast.ts';
import {
  ALLOWED_NESTINGS,
  adapterLeaves,
  blocksOf,
  compositionBlocksOf,
  compositionChildren,
  fuseName,
  inferHeads,
  kwargsToJs,
} from './composition.ts';
import { type Diagnostic, error } from './diagnostics.ts';
import type { Env } from './env.ts';

export interface RuleContext {
  readonly env: Env;
  /** The root file, for problems that belong to no statement. */
  readonly file: string;
}

export interface Rule {
  readonly name: string;
  readonly description: string;
  readonly check: (context: RuleContext) => readonly Diagnostic[];
}

type Block = Extract<Expr, { kind: 'block' }>;

/** Every composition expression of the program: the setup(s) and what trains. */
const expressions = (env: Env): { expr: Expr; role: 'setup' | 'train' }[] => [
  ...env.setups.map((s) => ({ expr: s.expr, role: 'setup' as const })),
  ...env.trains.map((t) => ({ expr: t.expr, role: 'train' as const })),
];

const blocks = (env: Env) => expressions(env).flatMap(({ expr }) => blocksOf(expr));

const didYouMean = (name: string, candidates: Iterable<string>): string | undefined => {
  const match = closestName(name, candidates);
  return match ? `did you mean \`${match}\`?` : undefined;
};

const fileStart = (file: string): Span => ({ file, start: 0, end: 0, line: 1, column: 1 });

const FAMILY_NAMES: Readonly<Record<MethodFamily, string>> = {
  bottleneck: 'bottleneck adapters',
  lora: 'LoRA',
  ia3: '(IA)³',
  prefix_tuning: 'prefix tuning',
  prompt_tuning: 'prompt tuning',
};

/** Which blocks each method family implements (semantics §1.2). Prompt tuning takes part in none. */
const SUPPORTED_BLOCKS: Readonly<Record<MethodFamily, readonly BlockType[]>> = {
  bottleneck: ['Stack', 'Fuse', 'Split', 'Parallel', 'BatchSplit', 'Average'],
  lora: ['Stack', 'BatchSplit', 'Average', 'Parallel', 'MultiTask'],
  ia3: ['Stack', 'BatchSplit', 'Average', 'Parallel', 'MultiTask'],
  prefix_tuning: ['Stack', 'Parallel', 'BatchSplit'],
  prompt_tuning: ['Stack'],
};

/** SUPPORTED_MODELS[Parallel] of the library. */
export const PARALLEL_MODEL_TYPES: ReadonlySet<string> = new Set([
  'albert',
  'bert',
  'roberta',
  'distilbert',
  'deberta',
  'deberta-v2',
  'bart',
  'mbart',
  'mt5',
  'plbart',
  'gpt2',
  'gptj',
  't5',
  'vit',
  'xlm-roberta',
  'bert-generation',
  'llama',
  'mistral',
  'electra',
  'whisper',
  'xmod',
]);

const modelDeclared: Rule = {
  name: 'model-declared',
  description: 'exactly one `model` statement',
  check: ({ env, file }) => [
    ...(env.models.length === 0
      ? [
          error(
            'missing-model',
            'no `model` statement: the file must name its base model',
            env.statements[0]?.span ?? fileStart(file),
            'add `model "<folder with config.json>"`',
          ),
        ]
      : []),
    ...env.models
      .slice(1)
      .map((m) => error('duplicate-model', 'a program has one base model; this `model` repeats it', m.span)),
    ...env.stores
      .slice(1)
      .map((s) =>
        error('duplicate-store', 'a program has one adapter store; this `store` repeats it', s.span),
      ),
  ],
};

const singleSetup: Rule = {
  name: 'single-setup',
  description: 'at most one active `setup`',
  check: ({ env }) =>
    env.setups
      .slice(1)
      .map((s) =>
        error(
          'duplicate-setup',
          'only one `setup` can be active; this one repeats it',
          s.span,
          'keep one `setup` statement',
        ),
      ),
};

const definedNames: Rule = {
  name: 'defined-names',
  description: 'adapters and heads used in setups, trainings and fusions are declared',
  check: ({ env }) => {
    const adapterRefs = [
      ...expressions(env).flatMap(({ expr }) => adapterLeaves(expr).map((l) => l.ref.name)),
      ...[...env.fusions.values()].flatMap((f) => f.adapters),
    ];
    const headRefs = expressions(env).flatMap(({ expr }) => headRefsOf(expr));
    return [
      ...adapterRefs
        .filter((ref) => !env.adapters.has(ref.name))
        .map((ref) => {
          const isHead = env.heads.has(ref.name)
            ? `\`${ref.name}\` is a head: write \`head ${ref.name}\``
            : undefined;
          return error(
            'undefined-adapter',
            `adapter \`${ref.name}\` is not declared`,
            ref.span,
            isHead ?? didYouMean(ref.name, env.adapters.keys()),
          );
        }),
      ...headRefs
        .filter((ref) => !env.heads.has(ref.name.name))
        .map((ref) =>
          error(
            'undefined-head',
            `head \`${ref.name.name}\` is not declared`,
            ref.name.span,
            didYouMean(ref.name.name, env.heads.keys()),
          ),
        ),
    ];
  },
};

function headRefsOf(expr: Expr): Extract<Expr, { kind: 'head-ref' }>[] {
  if (expr.kind === 'head-ref') return [expr];
  return expr.kind === 'block' ? expr.children.flatMap(headRefsOf) : [];
}

const headPosition: Rule = {
  name: 'head-position',
  description: '`head X` only as the whole setup or the last child of a Stack; never in `train`',
  check: ({ env }) =>
    expressions(env).flatMap(({ expr, role }) => {
      if (role === 'train')
        return headRefsOf(expr).map((h) =>
          error(
            'head-position',
            'heads have no place in `train`: it names the adapters or fusion that train',
            h.span,
          ),
        );
      return blocksOf(expr).flatMap(({ block }) =>
        block.children.flatMap((child, i) => {
          if (child.kind !== 'head-ref') return [];
          if (block.type === 'Stack' && i === block.children.length - 1) return [];
          const hint =
            block.type === 'Stack'
              ? 'move it to the end of the Stack'
              : `wrap the channel in a Stack: \`Stack(<adapters>, head ${child.name.name})\``;
          return [
            error(
              'head-position',
              `a head can only be the last child of a Stack, not a child of \`${block.type}\` here`,
              child.span,
              hint,
            ),
          ];
        }),
      );
    }),
};

const nonEmptyBlocks: Rule = {
  name: 'non-empty-blocks',
  description: 'every block has at least one adapter or block child',
  check: ({ env }) =>
    blocks(env)
      .filter(({ block }) => compositionChildren(block).length === 0)
      .map(({ block }) =>
        error('empty-block', `\`${block.type}\` needs at least one adapter or block inside`, block.span),
      ),
};

const nesting: Rule = {
  name: 'nesting',
  description: "the library's ALLOWED_NESTINGS table and its depth rules (semantics §1.2)",
  check: ({ env }) =>
    expressions(env)
      .flatMap(({ expr }) => compositionBlocksOf(expr))
      .flatMap(({ block, level, parent }) => {
        if (!parent) return [];
        if (!ALLOWED_NESTINGS[parent.type].includes(block.type)) {
          const allowed = ['adapters', ...ALLOWED_NESTINGS[parent.type]].join(', ');
          return [
            error(
              'nesting',
              `\`${block.type}\` cannot be nested in \`${parent.type}\``,
              block.typeSpan,
              `inside ${parent.type} only ${allowed} are allowed`,
            ),
          ];
        }
        if (level >= 2 && block.type !== 'Stack')
          return [
            error(
              'nesting-depth',
              `composition too deep: \`${block.type}\` at nesting level ${level}; below level 1 only Stack is allowed`,
              block.typeSpan,
              'flatten the composition (top block → block → Stack → adapters)',
            ),
          ];
        if (level >= 2 && parent.type === 'Stack')
          return [
            error(
              'nesting-depth',
              'composition too deep: a Stack nested in another block may only hold adapters',
              block.typeSpan,
              'flatten the nested block into its parent Stack',
            ),
          ];
        return [];
      }),
};

/** Keyword arguments each block takes. */
const BLOCK_KWARGS: Readonly<Record<BlockType, readonly string[]>> = {
  Stack: [],
  Fuse: [],
  Split: ['splits'],
  BatchSplit: ['batch_sizes'],
  Parallel: [],
  Average: ['weights', 'normalize_weights'],
  MultiTask: [],
};

const REQUIRED_KWARG: Partial<Record<BlockType, string>> = { Split: 'splits', BatchSplit: 'batch_sizes' };

function sizeProblems(block: Block, key: string, value: unknown, count: number, span: Span): Diagnostic[] {
  const sizes = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(sizes) || !sizes.every((s) => Number.isInteger(s) && s > 0))
    return [
      error('block-kwarg', `\`${key}\` of ${block.type} must be a positive integer or a list of them`, span),
    ];
  if (Array.isArray(value) && value.length !== count)
    return [
      error(
        'block-kwarg',
        `\`${key}\` has ${value.length} entries but ${block.type} has ${count} children`,
        span,
        `give one size per child (${count})`,
      ),
    ];
  return [];
}

const blockKwargs: Rule = {
  name: 'block-kwargs',
  description: 'Split splits, BatchSplit batch_sizes and Average weights are well formed',
  check: ({ env }) =>
    blocks(env).flatMap(({ block }) => {
      const count = compositionChildren(block).length;
      const known = BLOCK_KWARGS[block.type];
      const kwargs = kwargsToJs(block.kwargs);
      const required = REQUIRED_KWARG[block.type];
      const problems: Diagnostic[] = [];
      if (required && !(required in kwargs))
        problems.push(
          error(
            'block-kwarg',
            `${block.type} needs \`${required}\``,
            block.typeSpan,
            `e.g. \`${block.type}(a, b, ${required}: [2, 3])\``,
          ),
        );
      for (const kv of block.kwargs) {
        const key = kv.key.name;
        const value = kwargs[key];
        if (!known.includes(key)) {
          const hint =
            known.length === 0
              ? `${block.type} takes no keyword arguments`
              : (didYouMean(key, known) ?? `${block.type} takes ${known.join(', ')}`);
          problems.push(
            error('block-kwarg', `unknown argument \`${key}\` for ${block.type}`, kv.key.span, hint),
          );
        } else if (key === 'splits' || key === 'batch_sizes')
          problems.push(...sizeProblems(block, key, value, count, kv.value.span));
        else if (key === 'normalize_weights' && typeof value !== 'boolean')
          problems.push(error('block-kwarg', '`normalize_weights` must be true or false', kv.value.span));
        else if (key === 'weights') {
          if (!Array.isArray(value) || !value.every((w) => typeof w === 'number' && Number.isFinite(w)))
            problems.push(error('block-kwarg', '`weights` must be a list of numbers', kv.value.span));
          else if (value.length !== count)
            problems.push(
              error(
                'block-kwarg',
                `\`weights\` has ${value.length} entries but Average has ${count} children`,
                kv.value.span,
                `give one weight per child (${count})`,
              ),
            );
          else if (
            kwargs.normalize_weights !== false &&
            value.reduce((a: number, b: number) => a + b, 0) === 0
          )
            problems.push(error('block-kwarg', '`weights` sum to 0 and cannot be normalized', kv.value.span));
        }
      }
      return problems;
    }),
};

const methodSupport: Rule = {
  name: 'method-support',
  description:
    'each adapter method is used only in blocks it implements (LoRA/IA³ not in Fuse or Split, ...)',
  check: ({ env }) =>
    expressions(env).flatMap(({ expr }) =>
      adapterLeaves(expr).flatMap(({ ref, ancestors }) => {
        const config = env.adapters.get(ref.name.name)?.config;
        if (!config) return [];
        return methodFamilies(config).flatMap((family) => {
          const unsupported = ancestors.find((b) => !SUPPORTED_BLOCKS[family].includes(b.type));
          if (!unsupported) return [];
          const supported = SUPPORTED_BLOCKS[family].join(', ');
          const message =
            family === 'prompt_tuning'
              ? `\`${ref.name.name}\` uses prompt tuning, which takes no part in composition blocks (\`${unsupported.type}\`)`
              : `\`${ref.name.name}\` uses ${FAMILY_NAMES[family]}, which cannot be used inside \`${unsupported.type}\``;
          return [
            error('method-support', message, ref.name.span, `${FAMILY_NAMES[family]} work in: ${supported}`),
          ];
        });
      }),
    ),
};

/** The methods and module locations an expression's adapters occupy, e.g. `lora@q`, `bottleneck@output`. */
function locationsOf(expr: Expr, env: Env): ReadonlySet<string> | null {
  const leaves = adapterLeaves(expr);
  const configs = leaves.map((l) => env.adapters.get(l.ref.name.name)?.config);
  if (configs.some((c) => !c)) return null;
  return new Set(configs.flatMap((c) => singleConfigs(c!).flatMap(adapterLocations)));
}

const METHOD_WORDS: Readonly<Record<string, string>> = {
  bottleneck: 'a bottleneck adapter',
  'parallel-bottleneck': 'a parallel bottleneck adapter',
  lora: 'LoRA',
  ia3: '(IA)³',
  prefix: 'prefix tuning',
  prompt: 'prompt tuning',
};

const SITE_WORDS: Readonly<Record<string, string>> = {
  attention: 'the attention output',
  output: 'the FFN output',
  q: 'query',
  k: 'key',
  v: 'value',
  intermediate: 'the intermediate dense',
  'self-attention': 'self-attention',
  embeddings: 'the embeddings',
};

/** `lora@q, lora@v` → "LoRA at query, value": explains why children do not mix. */
const describeLocations = (locations: ReadonlySet<string>): string => {
  const byMethod = new Map<string, string[]>();
  for (const location of [...locations].sort()) {
    const [method, site] = location.split('@');
    const loraOutput = (method === 'lora' || method === 'ia3') && site === 'output';
    byMethod.set(method, [
      ...(byMethod.get(method) ?? []),
      loraOutput ? 'the output dense' : (SITE_WORDS[site] ?? site),
    ]);
  }
  const parts = [...byMethod].map(
    ([method, sites]) => `${METHOD_WORDS[method] ?? method} at ${sites.join(', ')}`,
  );
  return parts.join(' and ') || 'no adapter modules';
};

/** Blocks whose children must be interchangeable: the library runs one method's code path for all of them. */
const UNIFORM_BLOCKS: readonly BlockType[] = ['Parallel', 'BatchSplit', 'Average', 'MultiTask'];

const uniformChildren: Rule = {
  name: 'uniform-children',
  description:
    'children of Parallel/BatchSplit/Average/MultiTask use the same methods at the same locations (the ERR_* cases)',
  check: ({ env }) =>
    blocks(env).flatMap(({ block }) => {
      if (!UNIFORM_BLOCKS.includes(block.type)) return [];
      const children = compositionChildren(block);
      const signatures = children.map((c) => locationsOf(c, env));
      if (signatures.some((s) => s === null) || signatures.length < 2) return [];
      const first = describeLocations(signatures[0]!);
      const odd = signatures.findIndex((s) => describeLocations(s!) !== first);
      if (odd < 0) return [];
      const name = (i: number): string =>
        children[i].kind === 'adapter-ref'
          ? `\`${(children[i] as Extract<Expr, { kind: 'adapter-ref' }>).name.name}\``
          : `child ${i + 1}`;
      return [
        error(
          'mixed-methods',
          `children of \`${block.type}\` mix adapter methods or locations: ${name(0)} has ${first}, ${name(odd)} has ${describeLocations(signatures[odd]!)}; the library crashes on this (each layer runs one method's ${block.type} over all children, and finds some of them missing)`,
          children[odd].span,
          `use children of one method and one config shape in ${block.type}`,
        ),
      ];
    }),
};

const bottleneckSites = (locations: ReadonlySet<string>): Set<string> =>
  new Set([...locations].filter((l) => l.includes('bottleneck@')).map((l) => l.slice(l.indexOf('@') + 1)));

const fuseLocations: Rule = {
  name: 'fuse-locations',
  description:
    'a Fuse has a fusion layer wherever the rest of the setup puts bottleneck adapters (ERR_stack_fuse_then_dbl)',
  check: ({ env }) =>
    expressions(env).flatMap(({ expr }) => {
      const all = locationsOf(expr, env);
      if (!all) return [];
      return blocksOf(expr).flatMap(({ block }) => {
        if (block.type !== 'Fuse') return [];
        const perChild = compositionChildren(block).map((c) => locationsOf(c, env));
        if (perChild.some((s) => s === null) || perChild.length === 0) return [];
        const childSites = perChild.map((s) => bottleneckSites(s!));
        const fused = new Set([...childSites[0]].filter((site) => childSites.every((s) => s.has(site))));
        const outside = [...bottleneckSites(all)].filter((site) => !fused.has(site));
        if (outside.length === 0) return [];
        return [
          error(
            'fuse-locations',
            `bottleneck adapters in this setup sit at ${outside.map((site) => SITE_WORDS[site]).join(', ')}, where \`Fuse(${fuseName(block)})\` has no fusion layer (its adapters share only ${[...fused].map((site) => SITE_WORDS[site]).join(', ') || 'no location'}); the library crashes on this`,
            block.typeSpan,
            'fuse and stack bottleneck adapters that sit at the same locations (e.g. all seq_bn)',
          ),
        ];
      });
    }),
};

const parallelModel: Rule = {
  name: 'parallel-model',
  description: 'Parallel only for model types the library supports',
  check: ({ env }) => {
    const type = env.model?.modelType;
    if (!type || PARALLEL_MODEL_TYPES.has(type)) return [];
    return blocks(env)
      .filter(({ block }) => block.type === 'Parallel')
      .map(({ block }) =>
        error(
          'parallel-model',
          `Parallel is not supported for model type \`${type}\``,
          block.typeSpan,
          `supported: ${[...PARALLEL_MODEL_TYPES].join(', ')}`,
        ),
      );
  },
};

/** Model types whose attention projects Q, K and V with one fused matrix (LoRAMergedLinear in the library). */
const FUSED_QKV_MODEL_TYPES: ReadonlySet<string> = new Set(['gpt2', 'deberta']);

const isSingleAdapter = (expr: Expr): boolean =>
  expr.kind === 'adapter-ref' ||
  (expr.kind === 'block' &&
    expr.type === 'Stack' &&
    compositionChildren(expr).length === 1 &&
    compositionChildren(expr)[0].kind === 'adapter-ref');

const fusedQkvLora: Rule = {
  name: 'fused-qkv-lora',
  description: 'on models with a fused QKV matrix, LoRA/IA³ adapters only run as a single-adapter setup',
  check: ({ env }) => {
    const type = env.model?.modelType;
    if (!type || !FUSED_QKV_MODEL_TYPES.has(type)) return [];
    return expressions(env).flatMap(({ expr }) => {
      if (isSingleAdapter(expr)) return [];
      return adapterLeaves(expr).flatMap(({ ref }) => {
        const config = env.adapters.get(ref.name.name)?.config;
        const family = config ? methodFamilies(config).find((f) => f === 'lora' || f === 'ia3') : undefined;
        if (!family) return [];
        const message = `\`${ref.name.name}\` uses ${FAMILY_NAMES[family]}, which on a \`${type}\` model (one fused QKV matrix) only runs as the only adapter of the setup`;
        return [
          error(
            'fused-qkv-lora',
            message,
            ref.name.span,
            `use \`setup ${ref.name.name}\` alone, or a bottleneck adapter`,
          ),
        ];
      });
    });
  },
};

const declaredFusions: Rule = {
  name: 'declared-fusions',
  description: 'every Fuse has its declared fusion; fused adapters are bottleneck adapters',
  check: ({ env }) => [
    ...blocks(env).flatMap(({ block }) => {
      if (block.type !== 'Fuse' || compositionChildren(block).length === 0) return [];
      const name = fuseName(block);
      if (env.fusions.has(name)) return [];
      const names = name.split(',');
      const sameSet = [...env.fusions.keys()].find(
        (f) => f.split(',').sort().join(',') === [...names].sort().join(','),
      );
      const hint = sameSet
        ? `the declared fusion is Fuse(${sameSet.split(',').join(', ')}): the order of a fusion's adapters matters`
        : `declare it: \`fusion Fuse(${names.join(', ')}) = dynamic\``;
      return [
        error(
          'undeclared-fusion',
          `no fusion declared for \`Fuse(${names.join(', ')})\``,
          block.typeSpan,
          hint,
        ),
      ];
    }),
    ...[...env.fusions.values()].flatMap((fusion) =>
      fusion.adapters.flatMap((ref) => {
        const config = env.adapters.get(ref.name)?.config;
        if (!config) return [];
        const others = methodFamilies(config).filter((f) => f !== 'bottleneck');
        return others.length === 0
          ? []
          : [
              error(
                'fusion-method',
                `\`${ref.name}\` uses ${FAMILY_NAMES[others[0]]}; AdapterFusion fuses bottleneck adapters only`,
                ref.span,
              ),
            ];
      }),
    ),
  ],
};

const dropLayers: Rule = {
  name: 'drop-layers',
  description:
    "AdapterDrop layers are integers inside the model's layer count; ranges are inclusive and ascending",
  check: ({ env }) => {
    const layers = env.model?.numLayers ?? null;
    const bound = layers === null ? '' : ` (the model has layers 0..${layers - 1})`;
    const inModel = (n: number): boolean => Number.isInteger(n) && n >= 0 && (layers === null || n < layers);
    return [
      ...env.setups.flatMap((setup) =>
        (setup.drop?.items ?? []).flatMap((item) => {
          const ends = item.kind === 'layer' ? [item.index] : [item.from, item.to];
          if (!ends.every(inModel))
            return [
              error(
                'drop-range',
                `AdapterDrop layer outside the model${bound}`,
                item.span,
                'layers are 0-based and ranges are inclusive: `drop 0..3` drops 4 layers',
              ),
            ];
          if (item.kind === 'range' && item.from > item.to)
            return [
              error(
                'drop-range',
                `empty range ${item.from}..${item.to}: ranges go upward`,
                item.span,
                `write \`${item.to}..${item.from}\``,
              ),
            ];
          return [];
        }),
      ),
      ...env.trains.flatMap((train) => {
        const drop = train.randomDrop;
        if (!drop) return [];
        const ok =
          [drop.from, drop.to].every(
            (n) => Number.isInteger(n) && n >= 0 && (layers === null || n <= layers),
          ) && drop.from <= drop.to;
        return ok
          ? []
          : [
              error(
                'drop-range',
                `robust AdapterDrop draws k from ${drop.from}..${drop.to}: it must be an ascending range within 0..${layers ?? 'layers'}`,
                drop.span,
                'k is the number of lowest layers dropped in a step',
              ),
            ];
      }),
    ];
  },
};

const hasFuse = (expr: Expr): boolean =>
  expr.kind === 'block' &&
  (expr.type === 'Fuse' || expr.children.some((c) => c.kind === 'block' && c.type === 'Fuse'));

const trainTargets: Rule = {
  name: 'train-targets',
  description:
    '`train fusion` names a Fuse (or a block with a Fuse child); `unfreeze adapters` only with fusion; one `train`',
  check: ({ env }) => [
    ...env.trains
      .slice(1)
      .map((t) => error('duplicate-train', 'only one `train` statement is allowed', t.span)),
    ...env.trains.flatMap((train) => [
      ...(train.target === 'fusion' && !hasFuse(train.expr)
        ? [
            error(
              'train-target',
              '`train fusion` needs a Fuse (the library unfreezes the fusion of the setup or of its direct children)',
              train.expr.span,
              'write `train fusion Fuse(a, b, ...)` or `train adapter ...`',
            ),
          ]
        : []),
      ...(train.target === 'adapter' && train.unfreezeAdapters
        ? [
            error(
              'train-target',
              '`unfreeze adapters` only applies to `train fusion`',
              train.span,
              '`train adapter` already trains the adapters',
            ),
          ]
        : []),
    ]),
  ],
};

const headChannels: Rule = {
  name: 'head-channels',
  description: 'Parallel/BatchSplit heads: every channel has one, or none has',
  check: ({ env }) => {
    const heads = new Set(env.heads.keys());
    return env.setups.flatMap((setup) =>
      blocksOf(setup.expr).flatMap(({ block }) => {
        const inferred = inferHeads(block, heads);
        if (inferred.ok || inferred.block !== block) return [];
        const children = compositionChildren(block);
        return inferred.missing.map((i) =>
          error(
            'missing-head',
            `this ${block.type} channel has no head while others do`,
            children[i].span,
            'end the channel with `head X` in a Stack, or declare a head named like its last adapter',
          ),
        );
      }),
    );
  },
};

const modelShape: Rule = {
  name: 'model-shape',
  description: 'loaded adapters were saved for a model of the same hidden size',
  check: ({ env }) => {
    const hidden = env.model?.hiddenSize;
    if (!hidden) return [];
    return [...env.adapters.values()]
      .filter((a) => a.savedHiddenSize !== null && a.savedHiddenSize !== hidden)
      .map((a) =>
        error(
          'model-mismatch',
          `\`${a.name}\` was saved for hidden size ${a.savedHiddenSize}, the model has ${hidden}`,
          a.span,
        ),
      );
  },
};

/** Every key/value list of the program: config calls, block keyword arguments and map values. */
function keyValueLists(env: Env): (readonly KeyValue[])[] {
  const fromValue = (value: Value): (readonly KeyValue[])[] =>
    value.kind === 'list'
      ? value.items.flatMap(fromValue)
      : value.kind === 'map'
        ? [value.entries, ...value.entries.flatMap((e) => fromValue(e.value))]
        : [];
  const fromList = (list: readonly KeyValue[]): (readonly KeyValue[])[] => [
    list,
    ...list.flatMap((kv) => fromValue(kv.value)),
  ];
  const calls = env.statements.flatMap((s): ConfigCall[] => {
    if (s.kind === 'adapter') return s.source.kind === 'new' ? [...s.source.configs] : [];
    if (s.kind === 'head' || s.kind === 'fusion') return s.source.kind === 'new' ? [s.source.config] : [];
    return [];
  });
  return [...calls.map((c) => c.args), ...blocks(env).map(({ block }) => block.kwargs)].flatMap(fromList);
}

const uniqueKeys: Rule = {
  name: 'unique-keys',
  description: 'no key is given twice in one argument list or map',
  check: ({ env }) =>
    keyValueLists(env).flatMap((list) =>
      list.flatMap((kv, i) => {
        const first = list.findIndex((other) => other.key.name === kv.key.name);
        return first < i
          ? [error('duplicate-key', `\`${kv.key.name}\` is given twice`, kv.key.span, 'keep one of them')]
          : [];
      }),
    ),
};

/** Every rule, in the order their diagnostics are gathered (the output is sorted by position anyway). */
/** The weights an adapter's modules sit on (`q`, `v`, `intermediate`, …), whatever the method. */
const moduleSites = (config: Parameters<typeof singleConfigs>[0]): Set<string> =>
  new Set(singleConfigs(config).flatMap((c) => adapterLocations(c).map((l) => l.split('@')[1])));

const mergeableAdapters: Rule = {
  name: 'mergeable-adapters',
  description: 'merged adapters are declared, ungated LoRA or IA³, each merged once and one per weight',
  check: ({ env }) => {
    const merged = env.merges.flatMap((m) => m.names);
    const problems = merged.flatMap((ref, i): Diagnostic[] => {
      const decl = env.adapters.get(ref.name);
      if (!decl) {
        return [
          error(
            'undefined-adapter',
            `adapter \`${ref.name}\` is not declared`,
            ref.span,
            didYouMean(ref.name, env.adapters.keys()),
          ),
        ];
      }
      if (merged.slice(0, i).some((m) => m.name === ref.name))
        return [error('merge-twice', `adapter \`${ref.name}\` is merged twice`, ref.span)];
      if (!decl.config) return [];
      const members = singleConfigs(decl.config);
      if (!members.every((c) => c.architecture === 'lora')) {
        const methods = methodFamilies(decl.config).join(' + ');
        return [
          error(
            'merge-method',
            `only LoRA and IA³ adapters can be merged; \`${ref.name}\` is ${methods}`,
            ref.span,
          ),
        ];
      }
      if (members.some((c) => c.architecture === 'lora' && c.use_gating)) {
        return [
          error(
            'merge-gated',
            `adapter \`${ref.name}\` is gated; the library cannot merge gated LoRA`,
            ref.span,
          ),
        ];
      }
      return [];
    });
    const clashes = merged.flatMap((ref, i): Diagnostic[] => {
      const config = env.adapters.get(ref.name)?.config;
      if (!config) return [];
      const sites = moduleSites(config);
      const earlier = merged.slice(0, i).find((m) => {
        const other = env.adapters.get(m.name)?.config;
        return m.name !== ref.name && other && [...moduleSites(other)].some((site) => sites.has(site));
      });
      return earlier
        ? [
            error(
              'merge-clash',
              `\`${ref.name}\` and \`${earlier.name}\` would merge into the same weights; the library merges one adapter per layer`,
              ref.span,
            ),
          ]
        : [];
    });
    return [...problems, ...clashes];
  },
};

export const RULES: readonly Rule[] = [
  modelDeclared,
  singleSetup,
  definedNames,
  headPosition,
  nonEmptyBlocks,
  nesting,
  blockKwargs,
  methodSupport,
  uniformChildren,
  fuseLocations,
  parallelModel,
  fusedQkvLora,
  declaredFusions,
  dropLayers,
  trainTargets,
  headChannels,
  modelShape,
  uniqueKeys,
  mergeableAdapters,
];
