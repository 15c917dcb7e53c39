// The official Anthropic SDK, unchanged, against a running Detour: the
// Messages API, whole and streamed, a tool-use round trip, count_tokens and
// typed errors, each against an Anthropic-native upstream (the client's
// bytes pass through) and an OpenAI-native one (translated both ways).
// sdk_test.go starts Detour and the fake upstreams and sets DETOUR_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({ baseURL: process.env.DETOUR_URL, apiKey: 'unused-by-detour', maxRetries: 0 });

const upstreams = [
  { name: 'Anthropic upstream', group: 'claude', tools: 'claude-tools' },
  { name: 'OpenAI upstream', group: 'claude-via-openai', tools: 'claude-via-openai-tools' },
];

const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

for (const up of upstreams) {
  test(`messages.create through an ${up.name}`, async () => {
    const msg = await client.messages.create({
      model: up.group,
      max_tokens: 256,
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.stop_reason, 'end_turn');
    assert.equal(msg.content[0].type, 'text');
    assert.equal(msg.content[0].text, 'Hello from the fake upstream.');
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0, JSON.stringify(msg.usage));
  });

  test(`messages.stream through an ${up.name}`, async () => {
    const stream = client.messages.stream({
      model: up.group,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    const types = [];
    let text = '';
    stream.on('text', (t) => { text += t; });
    for await (const ev of stream) types.push(ev.type);
    const final = await stream.finalMessage();
    assert.equal(text, 'Hello from the fake upstream.');
    assert.equal(final.content[0].text, 'Hello from the fake upstream.');
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.ok(types.includes('content_block_delta'), types.join(' '));
    assert.ok(final.usage.output_tokens > 0);
  });

  test(`tool use round trip through an ${up.name}`, async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.messages.create({ model: up.tools, max_tokens: 256, tools: [weatherTool], messages });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    assert.ok(use, JSON.stringify(first.content));
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, { city: 'Paris' });
    assert.match(use.id, /^toolu_|^call_/);
    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Sunny, 21 °C' }] });
    const second = await client.messages.create({ model: up.tools, max_tokens: 256, tools: [weatherTool], messages });
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(second.content[0].text, 'It is sunny in Paris.');
  });

  test(`count_tokens through an ${up.name}`, async () => {
    const res = await client.messages.countTokens({
      model: up.group,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'one two three four' }],
    });
    assert.equal(typeof res.input_tokens, 'number');
    assert.ok(res.input_tokens > 0);
  });
}

test('typed errors', async () => {
  await assert.rejects(
    client.messages.create({ model: 'no-such-group', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.NotFoundError && err.status === 404 && err.error?.error?.type === 'not_found_error',
  );
  await assert.rejects(
    client.messages.create({ model: 'claude-limited', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof Anthropic.RateLimitError && err.status === 429 && err.error?.error?.type === 'rate_limit_error',
  );
  await assert.rejects(
    client.messages.create({ model: 'claude', max_tokens: 16, messages: [] }),
    (err) => err instanceof Anthropic.BadRequestError && err.error?.error?.type === 'invalid_request_error',
  );
});
