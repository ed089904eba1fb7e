import { useSyncExternalStore } from 'react';
import { chatReducer, initialChatState, type ChatAction, type ChatState } from './reducer';

type Listener = () => void;

/** Holds the chat state; React reads it through useChat with a selector. */
export class ChatStore {
  private state: ChatState = initialChatState;
  private readonly listeners = new Set<Listener>();

  getState = (): ChatState => this.state;

  dispatch = (action: ChatAction): void => {
    const next = chatReducer(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
  };

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

/** Selectors must return values already in the state (or primitives), never fresh objects. */
export function useChatSelector<T>(store: ChatStore, selector: (state: ChatState) => T): T {
  return useSyncExternalStore(store.subscribe, () => selector(store.getState()));
}
