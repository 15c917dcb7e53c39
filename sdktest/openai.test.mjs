// The official openai npm package and the AI SDK's default OpenAI provider,
// unchanged, against a running Detour's Responses API: plain, streamed, a
// function-tool round trip continued with previous_response_id, stored
// responses fetched and deleted; each against an OpenAI-native upstream
// and an Anthropic-native one (translated both ways). sdk_test.go starts
// Detour and the fake upstreams and sets DETOUR_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, tool, jsonSchema } from 'ai';

const baseURL = `${process.env.DETOUR_URL}/v1`;
const client = new OpenAI({ baseURL, apiKey: 'unused-by-detour', maxRetries: 0 });

const upstreams = [
  { name: 'OpenAI upstream', group: 'gpt', tools: 'gpt-tools', aiTools: 'gpt-ai-tools' },
  { name: 'Anthropic upstream', group: 'gpt-via-anthropic', tools: 'gpt-via-anthropic-tools', aiTools: 'gpt-via-anthropic-ai-tools' },
];

const weather = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};

for (const up of upstreams) {
  test(`responses.create through an ${up.name}`, async () => {
    const r = await client.responses.create({ model: up.group, instructions: 'Be terse.', input: 'Say hello.' });
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.match(r.id, /^resp_/);
    assert.equal(r.output_text, 'Hello from the fake upstream.');
    assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0, JSON.stringify(r.usage));

    const got = await client.responses.retrieve(r.id);
    assert.equal(got.output_text, r.output_text);
    const del = await client.responses.delete(r.id).catch((e) => e);
    assert.ok(!(del instanceof Error), String(del));
    await assert.rejects(client.responses.retrieve(r.id), (err) => err instanceof OpenAI.NotFoundError);
  });

  test(`responses.create streamed through an ${up.name}`, async () => {
    const stream = await client.responses.create({ model: up.group, input: 'Say hello.', stream: true });
    const types = [];
    let text = '';
    let completed;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') completed = ev.response;
    }
    assert.equal(text, 'Hello from the fake upstream.');
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(types.includes('response.output_item.added'));
    assert.equal(completed.output_text ?? completed.output[0].content[0].text, 'Hello from the fake upstream.');
  });

  test(`function tool round trip with previous_response_id through an ${up.name}`, async () => {
    const first = await client.responses.create({ model: up.tools, input: 'Weather in Paris?', tools: [weather] });
    const call = first.output.find((o) => o.type === 'function_call');
    assert.ok(call, JSON.stringify(first.output));
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    const second = await client.responses.create({
      model: up.tools,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'Sunny, 21 °C' }],
      tools: [weather],
    });
    assert.equal(second.output_text, 'It is sunny in Paris.');
    assert.equal(second.previous_response_id, first.id);
  });

  test(`the AI SDK's default provider through an ${up.name}`, async () => {
    const openai = createOpenAI({ baseURL, apiKey: 'unused-by-detour' });
    const { text } = await generateText({ model: openai(up.group), prompt: 'Say hello.', maxRetries: 0 });
    assert.equal(text, 'Hello from the fake upstream.');

    const s = streamText({ model: openai(up.group), prompt: 'Say hello.', maxRetries: 0 });
    let streamed = '';
    for await (const t of s.textStream) streamed += t;
    assert.equal(streamed, 'Hello from the fake upstream.');

    const withTools = await generateText({
      model: openai(up.aiTools),
      prompt: 'Weather in Paris?',
      maxRetries: 0,
      tools: {
        get_weather: tool({
          description: 'The weather in a city',
          inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async ({ city }) => `Sunny in ${city}`,
        }),
      },
      stopWhen: ({ steps }) => steps.length >= 2,
    });
    assert.equal(withTools.text, 'It is sunny in Paris.');
    assert.equal(withTools.steps[0].toolCalls[0].toolName, 'get_weather');
  });
}

test('typed errors', async () => {
  await assert.rejects(client.responses.create({ model: 'no-such-group', input: 'x' }),
    (err) => err instanceof OpenAI.NotFoundError && err.status === 404);
  await assert.rejects(client.responses.create({ model: 'gpt', input: 'x', previous_response_id: 'resp_missing' }),
    (err) => err instanceof OpenAI.NotFoundError && /resp_missing/.test(err.message));
  await assert.rejects(client.responses.create({ model: 'gpt', input: [{ type: 'bogus' }] }),
    (err) => err instanceof OpenAI.BadRequestError);
});
