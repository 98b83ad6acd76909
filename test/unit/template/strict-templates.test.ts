import { describe, expect, it } from 'vitest';
import { cli } from '../../support/cli.js';
import { projectDir } from '../../support/project.js';

/**
 * Strict everywhere: a typo in a helper argument, a block or a `when` is a validate error with the
 * file and line, like one in {{ name }} (Handlebars' strict mode alone only covers the latter).
 */
async function validate(files: Record<string, string>): Promise<{ code: number; out: string }> {
  const r = await cli(['validate', 'test'], { cwd: projectDir(files) });
  expect(r.connected).toEqual([]);
  return { code: r.code, out: r.stdout + r.stderr };
}

const template = (text: string) => ({
  'roles/base/tasks.yml': '- name: conf\n  template: { src: app.conf.hbs, dest: /etc/app.conf }\n',
  'roles/base/templates/app.conf.hbs': text,
  'roles/base/defaults.yml': 'backend_addrs: [10.0.0.1, 10.0.0.2]\nenable_tls: false\n',
});

describe('strict templates, arguments and conditions', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'a typo in a when helper argument',
      {
        'roles/base/tasks.yml':
          '- name: x\n  file: { path: /srv/x, state: directory }\n  when: "ne host.nmae \'web1\'"\n',
      },
      /tasks\.yml:1.*unknown variable "host\.nmae" in when/,
    ],
    [
      'an unknown variable compared in when',
      {
        'roles/base/tasks.yml': '- name: x\n  file: { path: /srv/x, state: directory }\n  when: "eq greetng \'hi\'"\n',
      },
      /tasks\.yml:1.*unknown variable "greetng"/,
    ],
    [
      'a bare unknown name in when',
      { 'roles/base/tasks.yml': '- name: x\n  file: { path: /srv/x, state: directory }\n  when: enable_tsl\n' },
      /tasks\.yml:1.*unknown variable "enable_tsl"/,
    ],
    [
      '{{#if}} on an unknown variable',
      template('a\n{{#if enable_tsl}}tls{{/if}}\n'),
      /app\.conf\.hbs:2:\d+: unknown variable "enable_tsl"/,
    ],
    [
      'a helper argument',
      template('x\ny\nservers {{join backend_adrs ", "}}\n'),
      /app\.conf\.hbs:3:\d+: unknown variable "backend_adrs"/,
    ],
    [
      '{{#each}} over an unknown list',
      template('{{#each backends}}{{this}}{{/each}}\n'),
      /app\.conf\.hbs:1:\d+: unknown variable "backends"/,
    ],
    [
      'a property inside {{#each}}',
      template('{{#each (hostsOf "web")}}\n{{this.adress}}\n{{/each}}\n'),
      /app\.conf\.hbs:2:\d+: unknown variable "(this\.)?adress"/,
    ],
    ['an unknown helper', template('{{shout greeting}}\n'), /app\.conf\.hbs.*unknown helper "shout"/],
    [
      '{{log}}, which would print past every renderer',
      template('{{log greeting}}\n'),
      /unknown helper "log" \(log is not available/,
    ],
    [
      'an argument helper call',
      { 'roles/base/tasks.yml': '- name: x\n  file: { path: "/srv/{{ lower greetng }}", state: directory }\n' },
      /tasks\.yml:1.*unknown variable "greetng"/,
    ],
  ];
  for (const [name, files, expected] of cases) {
    it(`${name}: exit 1 with the file and line`, async () => {
      const { code, out } = await validate(files);
      expect(code).toBe(1);
      expect(out).toMatch(expected);
      expect(out).not.toMatch(/\n\s+at /);
    });
  }

  it('declared optional values, (defined "x") and lookup of a missing key are fine', async () => {
    const { code, out } = await validate({
      ...template(
        '{{#if enable_tls}}tls{{/if}}{{#if (defined "tls_pem")}}pem{{/if}}{{#with (lookup host "nope")}}x{{/with}}{{join backend_addrs ", "}}\n',
      ),
    });
    expect(out).toMatch(/valid/);
    expect(code).toBe(0);
  });

  it('a template that prints nothing when the variable is declared empty still renders', async () => {
    const { code } = await validate({ ...template('{{#each backend_addrs}}server {{this}}\n{{/each}}\n') });
    expect(code).toBe(0);
  });
});
