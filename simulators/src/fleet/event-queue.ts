/**
 * A binary min-heap of items by a numeric key, ties broken by insertion
 * order so a run is reproducible. O(log n) per push and pop: a city's
 * 600,000 meters each hold one pending event.
 */
export class EventQueue<T> {
  private readonly heap: { key: number; seq: number; item: T }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(key: number, item: T): void {
    const h = this.heap;
    h.push({ key, seq: this.seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  peekKey(): number | undefined {
    return this.heap[0]?.key;
  }

  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    if (!top) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.item;
  }
}

function before(a: { key: number; seq: number }, b: { key: number; seq: number }): boolean {
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}
