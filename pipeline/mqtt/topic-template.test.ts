import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NameTemplate, TopicTemplate } from './topic-template.ts'
import { MqttBridgeError } from './errors.ts'

test('named single-level wildcards become the subscription filter and capture their levels', () => {
  const template = new TopicTemplate('factory/+site/+line/+sensor')
  assert.equal(template.filter, 'factory/+/+/+')
  assert.deepEqual(template.names, ['site', 'line', 'sensor'])
  assert.deepEqual(template.match('factory/berlin/l2/temp'), ['berlin', 'l2', 'temp'])
  assert.equal(template.match('factory/berlin/l2'), null, 'too few levels')
  assert.equal(template.match('factory/berlin/l2/temp/extra'), null, 'too many levels')
  assert.equal(template.match('plant/berlin/l2/temp'), null, 'literal level differs')
})

test('unnamed + and # match without capturing; #name captures the rest of the topic', () => {
  const skip = new TopicTemplate('a/+/b/#')
  assert.equal(skip.filter, 'a/+/b/#')
  assert.deepEqual(skip.match('a/x/b/c/d'), [])
  assert.deepEqual(skip.match('a/x/b'), [], '"a/x/b/#" also matches "a/x/b"')
  const rest = new TopicTemplate('dev/+id/#path')
  assert.equal(rest.filter, 'dev/+/#')
  assert.deepEqual(rest.match('dev/7/x/y/z'), ['7', 'x/y/z'])
  assert.deepEqual(rest.match('dev/7'), ['7', ''])
  assert.deepEqual(new TopicTemplate('#').match('anything/at/all'), [])
})

test('empty levels are levels: "a//b" matches "a/+x/b" with an empty capture', () => {
  assert.deepEqual(new TopicTemplate('a/+x/b').match('a//b'), [''])
})

test('bad templates are refused with a message naming the template', () => {
  const refuses = (template: string, pattern: RegExp): void => {
    assert.throws(() => new TopicTemplate(template), (error: unknown) => error instanceof MqttBridgeError && pattern.test(error.message), template)
  }
  refuses('', /must not be empty/)
  refuses('a/#/b', /"#" must be the last level/)
  refuses('a/b+c', /may only start a level/)
  refuses('a/+x/+x', /used twice/)
  refuses('a/+1x', /must start with a letter/)
})

test('name templates resolve {level} references; unknown references are refused', () => {
  const topic = new TopicTemplate('factory/+site/+line/+sensor')
  const measurement = new NameTemplate('{sensor}', topic, 'measurement')
  const database = new NameTemplate('plant_{site}_{line}', topic, 'database')
  const captured = topic.match('factory/berlin/l2/temp')!
  assert.equal(measurement.resolve(captured), 'temp')
  assert.equal(database.resolve(captured), 'plant_berlin_l2')
  assert.deepEqual(database.references, ['site', 'line'])
  assert.equal(new NameTemplate('fixed', topic, 'm').resolve(captured), 'fixed')
  assert.throws(() => new NameTemplate('{device}', topic, 'measurement'), /\{device\} is not a named level of topic "factory\/\+site\/\+line\/\+sensor"/)
  assert.throws(() => new NameTemplate('x{site', topic, 'measurement'), /"\{" without "\}"/)
  assert.throws(() => new NameTemplate('x}', topic, 'measurement'), /"\}" without "\{"/)
})
