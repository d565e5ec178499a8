/**
 * Tokens a turn used, as an agent reports them in its `finish` part and the run log records them in
 * `turn.completed`. Shared by both, so neither imports the other.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0 };
}
