// The checked program: what the front end hands to lowering once a .adapt file (and its includes)
// parsed and passed every check. Names are resolved, configs normalized, paths absolute.
import type { AdapterConfig, FusionConfig, HeadConfig } from '../config/types.ts';
import type { Span } from './ast.ts';

/** AdapterHub's composition tree (composition.py), with the kwargs already expanded and normalized. */
export type Composition =
  | string
  | { readonly type: 'Stack'; readonly children: readonly Composition[] }
  | { readonly type: 'Fuse'; readonly children: readonly Composition[] }
  | { readonly type: 'Parallel'; readonly children: readonly Composition[] }
  | { readonly type: 'MultiTask'; readonly children: readonly Composition[] }
  | { readonly type: 'Split'; readonly children: readonly Composition[]; readonly splits: readonly number[] }
  | {
      readonly type: 'BatchSplit';
      readonly children: readonly Composition[];
      readonly batch_sizes: readonly number[];
    }
  /** `weights` as the library stores them: already divided by their sum when normalize_weights. */
  | {
      readonly type: 'Average';
      readonly children: readonly Composition[];
      readonly weights: readonly number[];
    };

/** Which heads run on the base model's output (semantics §5.2, §5.4). */
export type HeadSetup =
  | null
  | { readonly kind: 'single'; readonly head: string }
  /** One head per Parallel channel, channel i on rows [i·B, (i+1)·B). */
  | { readonly kind: 'parallel'; readonly heads: readonly string[] }
  | {
      readonly kind: 'batch-split';
      readonly heads: readonly string[];
      readonly batch_sizes: readonly number[];
    };

export type CheckedAdapter =
  | {
      readonly name: string;
      readonly origin: 'load';
      /** The folder the weights come from (a local path, or the hub id resolved in the store). */
      readonly dir: string;
      readonly withHead: boolean;
      readonly config: AdapterConfig;
      readonly span: Span;
    }
  | { readonly name: string; readonly origin: 'new'; readonly config: AdapterConfig; readonly span: Span };

export type CheckedHead =
  | {
      readonly name: string;
      readonly origin: 'load';
      readonly dir: string;
      readonly config: HeadConfig;
      readonly span: Span;
    }
  | { readonly name: string; readonly origin: 'new'; readonly config: HeadConfig; readonly span: Span };

export type CheckedFusion =
  | {
      /** The library's fusion name: the adapter names joined by ','. */
      readonly name: string;
      readonly adapters: readonly string[];
      readonly origin: 'load';
      readonly dir: string;
      readonly config: FusionConfig;
      readonly span: Span;
    }
  | {
      readonly name: string;
      readonly adapters: readonly string[];
      readonly origin: 'new';
      readonly config: FusionConfig;
      readonly span: Span;
    };

export interface CheckedTraining {
  readonly target: 'adapter' | 'fusion';
  readonly setup: Composition;
  readonly unfreezeAdapters: boolean;
  readonly randomDrop: { readonly from: number; readonly to: number } | null;
}

export interface CheckedProgram {
  /** Absolute path of the root .adapt file. */
  readonly file: string;
  /** Absolute path of the model folder (config.json + weights). */
  readonly model: string;
  /** Absolute path of the adapter store for hub ids, or null. */
  readonly store: string | null;
  readonly adapters: ReadonlyMap<string, CheckedAdapter>;
  readonly heads: ReadonlyMap<string, CheckedHead>;
  readonly fusions: ReadonlyMap<string, CheckedFusion>;
  readonly setup: Composition | null;
  readonly headSetup: HeadSetup;
  /** AdapterDrop: 0-based layer indices where every adapter method is off. */
  readonly skipLayers: readonly number[];
  /** `merge NAME`: LoRA/IA³ adapters folded into the base weights as the library's merge_adapter does. */
  readonly merged?: readonly string[];
  readonly training: CheckedTraining | null;
}
