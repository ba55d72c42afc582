// What the browser page (examples/web/) reads: scenarios.json, written in Node by build.ts. Browser-safe: types
// only, no node: imports.

/** One head of a scenario: the graph output that holds its logits and its label names in id order. */
export interface SiteHead {
  /** The graph output, `heads.NAME`. */
  readonly output: string;
  readonly name: string;
  readonly labels: readonly string[];
}

/** One composition on its sentences, tokenized in Node (the page never tokenizes). */
export interface SiteScenario {
  /** models/<name>/model.json + weights.bin */
  readonly name: string;
  /** examples/<name>.adapt */
  readonly file: string;
  readonly title: string;
  /** The composition's setup line, as written. */
  readonly setup: string;
  /** One sentence per batch row. */
  readonly texts: readonly string[];
  readonly inputs: {
    readonly input_ids: readonly (readonly number[])[];
    readonly attention_mask: readonly (readonly number[])[];
    readonly token_type_ids: readonly (readonly number[])[];
  };
  readonly heads: readonly SiteHead[];
}

export interface SiteManifest {
  readonly format: 'adaptc-web/1';
  readonly scenarios: readonly SiteScenario[];
}

/** One output of one run on the page: plain arrays so a test can read it back through page.evaluate. */
export interface PageTensor {
  readonly shape: readonly number[];
  readonly data: number[];
}

export interface PageScenarioResult {
  readonly name: string;
  /** fetch of model.json + weights.bin and GpuModel.create (upload, pipelines), in ms. */
  readonly loadMs: number;
  /** The first run (buffers, first dispatches) and a second run on the same inputs, in ms. */
  readonly firstRunMs: number;
  readonly warmRunMs: number;
  readonly outputs: Readonly<Record<string, PageTensor>>;
}

/** `window.adaptcResults` once `document.body.dataset.state` is 'done'. */
export interface PageResults {
  readonly adapter: { readonly description: string; readonly backend: string };
  readonly scenarios: readonly PageScenarioResult[];
}
