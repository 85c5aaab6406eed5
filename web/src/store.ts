// A value components can watch: enough shared state for this app without a library.
import { useEffect, useState } from "preact/hooks";

export class Store<T> {
  private listeners = new Set<(value: T) => void>();
  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  set value(next: T) {
    this.current = next;
    for (const listen of this.listeners) listen(next);
  }

  subscribe(listen: (value: T) => void): () => void {
    this.listeners.add(listen);
    return () => this.listeners.delete(listen);
  }
}

export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.value);
  useEffect(() => {
    setValue(store.value);
    return store.subscribe(setValue);
  }, [store]);
  return value;
}
