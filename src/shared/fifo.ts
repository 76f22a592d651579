// A FIFO queue with a moving head. Array#shift is linear, and a cycle can queue
// 10,000 probes or deadlines; the consumed prefix is dropped once it is most of
// the array, so memory follows what is still queued.

export interface Fifo<T> {
  push(item: T): void;
  /** The next item, without taking it. */
  peek(): T | undefined;
  shift(): T | undefined;
  readonly length: number;
  /** Takes every item still queued. */
  drain(): T[];
}

export function createFifo<T>(): Fifo<T> {
  let items: (T | undefined)[] = [];
  let head = 0;
  const compact = () => {
    if (head === items.length) {
      items = [];
      head = 0;
    } else if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
  };
  return {
    push: (item) => void items.push(item),
    peek: () => (head < items.length ? items[head] : undefined),
    shift() {
      if (head >= items.length) return undefined;
      const item = items[head];
      items[head++] = undefined;
      compact();
      return item;
    },
    get length() {
      return items.length - head;
    },
    drain() {
      const rest = items.slice(head) as T[];
      items = [];
      head = 0;
      return rest;
    },
  };
}
