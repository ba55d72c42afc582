// The .adapt abstract syntax tree: what the parser produces, the formatter prints and the checker reads.
// Every node carries the span it came from so that diagnostics can point at it.

export interface Span {
  readonly file: string;
  /** 0-based offsets into the file text, end exclusive. */
  readonly start: number;
  readonly end: number;
  /** 1-based line and column of `start`. */
  readonly line: number;
  readonly column: number;
}

export interface Ident {
  readonly kind: 'ident';
  readonly name: string;
  readonly span: Span;
}

/** Literal values used in config arguments and kwargs. */
export type Value =
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly span: Span }
  | { readonly kind: 'string'; readonly value: string; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'null'; readonly span: Span }
  /** A bare word such as `tanh` or `q`: an enum-like value, kept apart from strings for formatting. */
  | { readonly kind: 'word'; readonly value: string; readonly span: Span }
  | { readonly kind: 'list'; readonly items: readonly Value[]; readonly span: Span }
  | { readonly kind: 'map'; readonly entries: readonly KeyValue[]; readonly span: Span };

export interface KeyValue {
  readonly key: Ident;
  readonly value: Value;
  readonly span: Span;
}

/** `name` or `name(key: value, ...)`: a method, head type or fusion preset with explicit keys. */
export interface ConfigCall {
  readonly kind: 'config-call';
  readonly name: Ident;
  readonly args: readonly KeyValue[];
  readonly span: Span;
}

/** How an adapter comes to exist. */
export type AdapterSource =
  /** `load "path-or-hub-id" [without head]`: a local folder, or a hub id resolved in the adapter store. */
  | { readonly kind: 'load'; readonly ref: string; readonly withHead: boolean; readonly span: Span }
  /** `seq_bn(reduction_factor: 16) | prefix_tuning`: new, from one method or a union of methods. */
  | { readonly kind: 'new'; readonly configs: readonly ConfigCall[]; readonly span: Span }
  /** `"double_seq_bn[reduction_factor=32]"`: new, from an AdapterHub config string verbatim. */
  | { readonly kind: 'config-string'; readonly text: string; readonly span: Span };

export type HeadSource =
  | { readonly kind: 'load'; readonly ref: string; readonly span: Span }
  /** `classification(num_labels: 3, layers: 2, activation: tanh)`, `tagging(...)`, ... */
  | { readonly kind: 'new'; readonly config: ConfigCall; readonly span: Span };

export type FusionSource =
  | { readonly kind: 'load'; readonly ref: string; readonly span: Span }
  /** `dynamic`, `static`, or either with overridden keys: `dynamic(temperature: true)`. */
  | { readonly kind: 'new'; readonly config: ConfigCall; readonly span: Span };

export type BlockType = 'Stack' | 'Fuse' | 'Split' | 'BatchSplit' | 'Parallel' | 'Average' | 'MultiTask';

/** A composition expression: an adapter name, a block, or a head attached inside a block. */
export type Expr =
  | { readonly kind: 'adapter-ref'; readonly name: Ident; readonly span: Span }
  | { readonly kind: 'head-ref'; readonly name: Ident; readonly span: Span }
  | {
      readonly kind: 'block';
      readonly type: BlockType;
      readonly typeSpan: Span;
      readonly children: readonly Expr[];
      readonly kwargs: readonly KeyValue[];
      readonly span: Span;
    };

/** AdapterDrop layer selection: inclusive ranges and single layers. */
export interface LayerSet {
  readonly items: readonly (
    | { readonly kind: 'layer'; readonly index: number; readonly span: Span }
    | {
        readonly kind: 'range';
        readonly from: number;
        readonly to: number;
        readonly span: Span;
      }
  )[];
  readonly span: Span;
}

export type Statement =
  | { readonly kind: 'model'; readonly path: string; readonly span: Span }
  | { readonly kind: 'store'; readonly path: string; readonly span: Span }
  | { readonly kind: 'include'; readonly path: string; readonly span: Span }
  | { readonly kind: 'adapter'; readonly name: Ident; readonly source: AdapterSource; readonly span: Span }
  | { readonly kind: 'head'; readonly name: Ident; readonly source: HeadSource; readonly span: Span }
  | {
      readonly kind: 'fusion';
      /** The fused adapters, in order; the fusion's AdapterHub name is their names joined by ','. */
      readonly adapters: readonly Ident[];
      readonly source: FusionSource;
      readonly span: Span;
    }
  | { readonly kind: 'setup'; readonly expr: Expr; readonly drop: LayerSet | null; readonly span: Span }
  /** `merge a, b`: model.merge_adapter(a) for each LoRA/IA³ adapter, as the library merges them. */
  | { readonly kind: 'merge'; readonly names: readonly Ident[]; readonly span: Span }
  | {
      readonly kind: 'train';
      /** `train adapter EXPR` is train_adapter; `train fusion EXPR` is train_adapter_fusion. */
      readonly target: 'adapter' | 'fusion';
      readonly expr: Expr;
      readonly unfreezeAdapters: boolean;
      /** Robust AdapterDrop: each step drops the lowest k layers, k drawn uniformly from this range. */
      readonly randomDrop: { readonly from: number; readonly to: number; readonly span: Span } | null;
      readonly span: Span;
    };

export interface Comment {
  readonly text: string;
  readonly span: Span;
}

export interface Program {
  readonly file: string;
  readonly statements: readonly Statement[];
  /** Comments, in source order, so that the formatter can keep them. */
  readonly comments: readonly Comment[];
  /** The text the program was parsed from, when there was one: lets the formatter keep blank lines. */
  readonly source?: string;
}
