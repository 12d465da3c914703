import type { ExecutableWorkflow } from '../executable-workflow.js';

/** Compressed adjacency (CSR) of a job graph, duplicates removed. */
export interface Adjacency {
  n: number;
  childOffsets: Int32Array;
  childIndex: Int32Array;
  parentOffsets: Int32Array;
  parentIndex: Int32Array;
}

/** Builds children and parents lists from edge arrays in O(n + e) (duplicate edges dropped). */
export function buildAdjacency(n: number, from: ArrayLike<number>, to: ArrayLike<number>): Adjacency {
  const e = from.length;
  const outDeg = new Int32Array(n + 1);
  const inDeg = new Int32Array(n + 1);
  for (let k = 0; k < e; k++) {
    outDeg[from[k] + 1]++;
    inDeg[to[k] + 1]++;
  }
  for (let i = 0; i < n; i++) {
    outDeg[i + 1] += outDeg[i];
    inDeg[i + 1] += inDeg[i];
  }
  const childIndex = new Int32Array(e);
  const parentIndex = new Int32Array(e);
  const co = outDeg.slice();
  const pi = inDeg.slice();
  for (let k = 0; k < e; k++) {
    childIndex[co[from[k]]++] = to[k];
    parentIndex[pi[to[k]]++] = from[k];
  }
  return { n, childOffsets: outDeg, childIndex, parentOffsets: inDeg, parentIndex };
}

export function adjacencyOf(wf: ExecutableWorkflow): Adjacency {
  return buildAdjacency(wf.jobs.length, wf.edgeFrom, wf.edgeTo);
}

/** Kahn topological order; throws when there is a cycle. */
export function topologicalOrder(adj: Adjacency): Int32Array {
  const { n, childOffsets, childIndex, parentOffsets } = adj;
  const indeg = new Int32Array(n);
  for (let i = 0; i < n; i++) indeg[i] = parentOffsets[i + 1] - parentOffsets[i];
  const order = new Int32Array(n);
  let len = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) order[len++] = i;
  for (let k = 0; k < len; k++) {
    const v = order[k];
    for (let x = childOffsets[v]; x < childOffsets[v + 1]; x++) {
      const c = childIndex[x];
      if (--indeg[c] === 0) order[len++] = c;
    }
  }
  if (len !== n) throw new Error(`the job graph has a cycle (${n - len} jobs on or after it)`);
  return order;
}

/** Longest distance from a root for every node (roots = 0). */
export function longestDepths(adj: Adjacency, order: Int32Array = topologicalOrder(adj)): Int32Array {
  const depth = new Int32Array(adj.n);
  for (let k = 0; k < order.length; k++) {
    const v = order[k];
    const d = depth[v] + 1;
    for (let x = adj.childOffsets[v]; x < adj.childOffsets[v + 1]; x++) {
      const c = adj.childIndex[x];
      if (depth[c] < d) depth[c] = d;
    }
  }
  return depth;
}

/** Removes duplicate edges in place (keeps the first of each pair). */
export function dedupeEdges(wf: ExecutableWorkflow): void {
  const seen = new Set<number>();
  const n = wf.jobs.length;
  const useNumber = n < 94906265; // n*n fits in a double exactly
  const strSeen = new Set<string>();
  let w = 0;
  for (let k = 0; k < wf.edgeFrom.length; k++) {
    const a = wf.edgeFrom[k];
    const b = wf.edgeTo[k];
    if (useNumber) {
      const key = a * n + b;
      if (seen.has(key)) continue;
      seen.add(key);
    } else {
      const key = `${a},${b}`;
      if (strSeen.has(key)) continue;
      strSeen.add(key);
    }
    wf.edgeFrom[w] = a;
    wf.edgeTo[w] = b;
    w++;
  }
  wf.edgeFrom.length = w;
  wf.edgeTo.length = w;
}
