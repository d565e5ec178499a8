import type { Agent, AgentDeps } from './agent.js';
import type { AgentSpec } from './spec.js';
import { createScriptedAgent } from './scripted/create-scripted-agent.js';
import { InputError } from '../errors.js';
import { createAnthropicAgent } from './chat/anthropic.js';
import { createOpenAIAgent } from './chat/openai.js';
import { createOllamaAgent } from './chat/ollama.js';
import { createOpenAICompletionsAgent } from './simulator/openai-completions.js';
import { createOllamaGenerateAgent } from './simulator/ollama-generate.js';
import { createLlamaCppAgent } from './simulator/llama-cpp.js';

/** Build the agent a scenario's spec describes, for the backend it names. */
export async function createAgent(spec: AgentSpec, deps: AgentDeps): Promise<Agent> {
  switch (spec.backend) {
    case 'scripted':
      return createScriptedAgent(spec, deps);
    case 'anthropic':
      return createAnthropicAgent(spec, deps);
    case 'openai':
      return createOpenAIAgent(spec, deps);
    case 'ollama':
      return createOllamaAgent(spec, deps);
    case 'openai-completions':
      return createOpenAICompletionsAgent(spec, deps);
    case 'ollama-generate':
      return createOllamaGenerateAgent(spec, deps);
    case 'llama-cpp':
      return createLlamaCppAgent(spec, deps);
    default: {
      const never: never = spec;
      throw new InputError(`unknown backend in ${JSON.stringify(never)}`);
    }
  }
}
