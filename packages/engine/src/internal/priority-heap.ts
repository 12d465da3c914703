/**
 * A binary max-heap of job indices ordered by priority (higher first), then by index (lower
 * first, i.e. plan order), so equal-priority jobs start in the order the planner wrote them.
 */
export class PriorityHeap {
  private items: number[] = [];

  constructor(private readonly priority: ArrayLike<number>) {}

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(i: number): void {
    const a = this.items;
    a.push(i);
    let k = a.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.before(a[k], a[p])) break;
      [a[k], a[p]] = [a[p], a[k]];
      k = p;
    }
  }

  pop(): number | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as number;
    if (a.length > 0) {
      a[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === k) break;
        [a[k], a[m]] = [a[m], a[k]];
        k = m;
      }
    }
    return top;
  }

  private before(x: number, y: number): boolean {
    const px = this.priority[x];
    const py = this.priority[y];
    return px !== py ? px > py : x < y;
  }
}
