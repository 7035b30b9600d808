// `kmipd serve --push-to SPEC` (src/push/config.ts).

import { describe, expect, it } from 'vitest';
import { parsePushTarget } from '../../src/push/config.js';

describe('--push-to', () => {
  it('reads address, owners and the optional parts, version 1.4 by default', () => {
    expect(parsePushTarget('127.0.0.1:5697,owners=*')).toEqual({
      host: '127.0.0.1',
      port: 5697,
      owners: '*',
      version: '1.4',
    });
    expect(
      parsePushTarget('[::1]:9000,owners=alice+bob,ca=sub-ca.crt,version=1.2,servername=sub'),
    ).toEqual({
      host: '::1',
      port: 9000,
      owners: ['alice', 'bob'],
      version: '1.2',
      ca: 'sub-ca.crt',
      servername: 'sub',
    });
  });

  it.each([
    ['127.0.0.1:5697', /needs owners=/],
    ['127.0.0.1:5697,owners=', /needs owners=/],
    ['127.0.0.1:5697,owners=a+', /bad owners list/],
    ['127.0.0.1:5697,owners=a+*', /bad owners list/],
    ['127.0.0.1,owners=*', /starts with HOST:PORT/],
    ['127.0.0.1:0,owners=*', /starts with HOST:PORT/],
    ['127.0.0.1:5697,owners=*,version=2.1', /version must be 1.0/],
    ['127.0.0.1:5697,owners=*,version=1.9', /version must be 1.0/],
    ['127.0.0.1:5697,owners=*,color=red', /unknown part 'color=red'/],
    ['127.0.0.1:5697,owners=*,owners=a', /owners given twice/],
  ])('refuses %j', (spec, message) => {
    expect(() => parsePushTarget(spec)).toThrow(message);
  });
});
