import { describe, expect, it } from 'vitest';
import { fleetCredentialsFrom } from './credentials-file.ts';

describe('credentials file', () => {
  const text = 'username,password\r\nM-000001,aaa\nS-0001,bbb\n';
  it('gives per-device fleets every login and pooled fleets their gateway', () => {
    expect(fleetCredentialsFrom(text, 'per-device', undefined)).toEqual({ devices: new Map([['M-000001', 'aaa'], ['S-0001', 'bbb']]) });
    expect(fleetCredentialsFrom('username,password\nhes-1,ccc\n', 'pooled', undefined)).toEqual({ gateway: { username: 'hes-1', password: 'ccc' } });
    expect(fleetCredentialsFrom(text, 'pooled', 'S-0001')).toEqual({ gateway: { username: 'S-0001', password: 'bbb' } });
  });
  it('says what is wrong with a file', () => {
    expect(fleetCredentialsFrom('M-1,aaa\n', 'per-device', undefined)).toMatch(/start with the line/);
    expect(fleetCredentialsFrom('username,password\nM-1\n', 'per-device', undefined)).toMatch(/line 2/);
    expect(fleetCredentialsFrom(text, 'pooled', undefined)).toMatch(/--gateway/);
    expect(fleetCredentialsFrom(text, 'pooled', 'hes-9')).toMatch(/no line for gateway 'hes-9'/);
  });
});
