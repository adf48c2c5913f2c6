#!/usr/bin/env python3
"""Records what Jinja2 renders for each engine test template, set up as transformers' apply_chat_template sets it up
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, its tojson and raise_exception).
Writes jinja2-expectations.json beside this file; JinjaEngineTests checks the C# engine against it.
Run: python3 make_jinja2_expectations.py  (needs Jinja2; 3.1.6 made the committed file)"""
import json, os
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols
from jinja2.exceptions import TemplateError


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

VARIABLES = json.loads(r'''{"messages": [{"role": "system", "content": " Be brief. "}, {"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!", "tool_calls": [{"function": {"name": "get_time", "arguments": {"zone": "UTC", "n": 1.5}}}]}],
 "d": {"b": 2, "a": 1, "list": [1, 2, 3]}, "n": null, "s": "  Hello, World ☕  ", "nums": [3, 1, 2], "empty": [], "flag": true, "zero": 0, "f": 2.5,
 "words": ["b", "A", "c"],
 "tools": [{"type": "function", "function": {"name": "get_time", "description": "Current time", "parameters": {"type": "object", "properties": {"zone": {"type": "string", "description": "IANA zone"}}, "required": ["zone"]}}}],
 "parts": {"role": "user", "content": [{"type": "text", "text": "Look: "}, {"type": "image"}, {"type": "text", "text": "what is it?"}]},
 "think": "<think>\nhmm\n</think>\n\nThe answer.", "users": [{"name": "ann", "age": 30, "admin": true}, {"name": "bob", "age": 25, "admin": false}]}''')

# "##topic" starts a group; every other entry is a template.
T = [
"##whitespace control and trim/lstrip",
"a  {{- 'b' -}}  c",
"a\n  {%- if true %}x{% endif -%}\n  b",
"line1\n    {% if true %}\n    yes\n    {% endif %}\nline2",
"  {% if true %}x{% endif %}  \ny",
"a {% if true %}x{% endif %}\nb",
"{%+ if true %}x{% endif %}\n  {%+ if true %}y{% endif %}",
"{% if true +%}\nkept newline{% endif %}",
"  {# comment #}\nnext",
"a{# comment -#}   \n b",
"  {{ 'var not lstripped' }}\n",
"x{% raw %}{{ not rendered }}{% endraw %}y",
"trailing newline kept once\n\n",
"{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n",
"a\r\nb\rc",
"##loops",
"{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }} {% endfor %}",
"{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}{{ ',' if not loop.last }}{% endfor %}",
"{% for x in empty %}never{% else %}empty list{% endfor %}",
"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
"{% for k in d %}{{ k }}{% endfor %}",
"{% for c in 'ab☕' %}[{{ c }}]{% endfor %}",
"{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
"{% for i in range(1, 10, 3) %}{{ i }},{% endfor %}{% for i in range(3, 0, -1) %}{{ i }}{% endfor %}",
"{% for a in [1,2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}",
"{% for m in messages %}{{ loop.previtem.role if not loop.first else '-' }}>{{ loop.nextitem.role if not loop.last else '-' }} {% endfor %}",
"{% for i in range(4) %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
"{% set x = 5 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }}",
"{% for i in [1, 2] %}{% set inner = i %}{% endfor %}{{ inner is defined }}",
"##namespace and set",
"{% set ns = namespace(found=false, count=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}{{ ns.found }} {{ ns.count }}",
"{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}",
"{% if true %}{% set y = 3 %}{% endif %}{{ y }}",
"{% set a, b = 1, 2 %}{{ a }}{{ b }}",
"{% set t = 1, 2 %}{{ t }}",
"{% set block %}inner {{ 1 + 1 }}{% endset %}[{{ block }}]",
"{% set block | upper %}shout{% endset %}{{ block }}",
"{% set messages = messages[1:] %}{{ messages | length }}",
"##macros and call",
"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('ann') }} {{ greet('bob', '?') }} {{ greet(punct='.', name='cy') }}",
"{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold{% endcall %}",
"{% macro row(x) %}{{ caller(x * 2) }}{% endmacro %}{% call(v) row(21) %}v={{ v }}{% endcall %}",
"{% macro m(a) %}{{ a is defined }}{% endmacro %}{{ m() }}",
"{% macro outer() %}{{ s | trim }}{% endmacro %}{{ outer() }}",
"{% filter upper %}quiet {{ 'words' }}{% endfilter %}",
"{% macro show() %}{{ later }}{% endmacro %}{% set later = 'set after' %}{{ show() }}",
"{% set x = 'outer' %}{% macro m() %}{% set x = 'inner' %}{{ x }}{% endmacro %}{{ m() }} {{ x }}",
"{% macro fact(n) %}{{ 1 if n <= 1 else n * fact(n - 1) | int }}{% endmacro %}{{ fact(5) }}",
"{% macro m(a, b=a ~ '!') %}{{ a }}{{ b }}{% endmacro %}{{ m('x') }}",
"{% for m in messages %}{% macro tag() %}<{{ m.role }}>{% endmacro %}{{ tag() }}{% endfor %}",
"{% macro list_roles() %}{% for m in messages %}{{ m.role }}{% if not loop.last %},{% endif %}{% endfor %}{% endmacro %}[{{ list_roles() }}]",
"##slicing and subscripts",
"{{ nums[::-1] }} {{ nums[1:] }} {{ nums[:-1] }} {{ nums[::2] }} {{ nums[-1] }} {{ nums[5] }}|",
"{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[-2:] }} {{ 'h☕llo'[1] }}",
"{{ messages[0].role }} {{ messages[0]['content'] }} {{ messages[-1].tool_calls[0].function.name }}",
"{{ d.a }} {{ d['b'] }} {{ d.missing }}|{{ d.list.1 }}",
"{{ (1, 2)[0] }} {{ [[1, 2], [3]][0][1] }} {{ {'k': 'v'}['k'] }}",
"##tojson",
"{{ messages[2].tool_calls[0].function.arguments | tojson }}",
"{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(sort_keys=true) }}",
"{{ 'é \"q\" \\\\ \n\t <tag> &' | tojson }}",
"{{ [1, 2.0, none, true, 'x', 1e20, 0.1] | tojson }}",
"{{ {'a': [], 'b': {}} | tojson(indent=4) }}",
"{{ users | tojson(separators=(',', ':')) }}",
"{{ 'ü' | tojson(ensure_ascii=true) }}",
"##filters",
"{{ s | trim }}|{{ s | length }}|{{ s | upper }}|{{ s | lower }}|{{ 'hello world' | capitalize }}|{{ \"it's a-b (c) [d]\" | title }}",
"{{ undefined_var | default('dflt') }} {{ '' | default('x') }} {{ '' | default('x', true) }} {{ n | d('nn') }} {{ zero | default('z', boolean=true) }}",
"{{ nums | first }} {{ nums | last }} {{ nums | join('-') }} {{ words | join }} {{ 'abc' | list }} {{ nums | sort }} {{ words | sort }} {{ words | sort(case_sensitive=true) }} {{ nums | sort(reverse=true) }}",
"{{ users | map(attribute='name') | join(', ') }} {{ users | selectattr('admin') | map(attribute='name') | list }} {{ users | rejectattr('admin') | map(attribute='name') | first }}",
"{{ users | selectattr('name', 'equalto', 'bob') | list | length }} {{ nums | select('odd') | list }} {{ nums | reject('odd') | list }} {{ nums | select('gt', 1) | list }}",
"{{ d | items | list }} {{ d | dictsort }} {{ d.items() | list }}",
"{{ 42 | string }} {{ '42' | int + 1 }} {{ '3.5' | float }} {{ 'x' | int }} {{ 3.9 | int }} {{ true | int }} {{ 'x' | float }}",
"{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ '<b>' | escape }} {{ '<b>' | e }} {{ '<b>' | safe }}",
"{{ 'one\ntwo\n\nthree' | indent(2) }}|{{ 'one\ntwo' | indent(2, true) }}|{{ 'a\n\nb' | indent(2, blank=true) }}|{{ 'x' | indent('>> ', first=true) }}",
"{{ users | map(attribute='age') | sum }} {{ nums | sum(start=10) }} {{ nums | max }} {{ nums | min }} {{ words | max }} {{ (users | max(attribute='age')).name }}",
"{{ [1, 2, 1, 3, 2] | unique | list }} {{ ['A', 'a', 'b'] | unique | list }} {{ nums | reverse | list }} {{ 'abc' | reverse }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 2.1 | round(method='ceil') }}",
"{{ 'hello big world' | wordcount }} {{ 'x' | center(5) }}| {{ '%s-%d' | format('a', 3) }} {{ nums | count }} {{ users | map('string') | first }}",
"{{ ['a', 'b'] | map('upper') | join }}",
"##tests",
"{{ n is none }} {{ n is defined }} {{ missing is undefined }} {{ 's' is string }} {{ d is mapping }} {{ nums is iterable }} {{ nums is sequence }} {{ 1 is number }} {{ true is number }} {{ 1.0 is float }} {{ 1 is integer }} {{ true is integer }}",
"{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 2 is in nums }} {{ 'a' is in 'cat' }} {{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 2 is gt 1 }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ n is not none }}",
"{{ missing is iterable }} {{ missing is sequence }} {{ 's' is sameas 's' }} {{ none is sameas none }} {{ f is callable }} {{ range is callable }}",
"##operators",
"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 7.5 // 2 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }}",
"{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 'x' + 'y' }} {{ 1 + 2.5 }} {{ true + 1 }} {{ 0.1 + 0.2 }} {{ 1e3 }} {{ 10 / 4 }} {{ 1_000 }}",
"{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 'x' in 'xyz' }} {{ 'q' not in 'xyz' }} {{ 2 in nums }} {{ 'a' in d }} {{ none == none }}",
"{{ true and 'yes' }} {{ false or 'fallback' }} {{ 0 or none }} {{ not 0 }} {{ not missing }} {{ 'x' if flag else 'y' }} {{ 'x' if not flag else 'y' }} [{{ 'only' if false }}] {{ 1 if false else 2 if true else 3 }}",
"{{ -f }} {{ +f }} {{ not not 'a' }} {{ (1, 'a') }} {{ (1,) }} {{ () }} {{ [] }} {{ {} }} {{ {'a': 1, 'b': [none, true, 2.0]} }}",
"{{ 'it\\'s' }} {{ \"say \\\"hi\\\"\" }} {{ 'tab\\there' }} {{ 'uni\\u00e9 \\x41' }} {{ 'back\\\\slash' }} {{ 'keep \\d' }} {{ 'a' 'b' }}",
"{{ True }} {{ False }} {{ None }} {{ true }} {{ none }} {{ 1.0 }} {{ 1e16 }} {{ 123456789012345678 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.5e300 * 1 }}",
"##string methods",
"[{{ s.strip() }}] [{{ s.lstrip() }}] [{{ s.rstrip() }}] [{{ 'xxhixx'.strip('x') }}] {{ s.strip().startswith('Hello') }} {{ 'file.txt'.endswith(('.md', '.txt')) }}",
"{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' x y '.split(none, 1) }}",
"{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ \"hello o'neil world\".title() }} {{ 'aXb'.replace('X', '-') }} {{ 'abc'.find('c') }} {{ 'hello'.count('l') }} {{ ', '.join(['a', 'b']) }} {{ '{} and {}'.format('x', 'y') }} {{ '{name}!'.format(name='n') }}",
"{{ 'Größe'.upper() }} {{ 'hello'.capitalize() }} {{ '42'.isdigit() }} {{ 'abc'.isalpha() }} {{ '  '.isspace() }} {{ 'ab'.startswith('b') }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ '7'.zfill(3) }}",
"{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | first }} {{ nums.index(2) }} {{ nums.count(3) }}",
"{% for key, value in messages[2].tool_calls[0].function.arguments.items() %}{{ key }}:{{ value }} {% endfor %}",
"##undefined behaviour",
"[{{ missing }}] [{{ missing | length }}] [{{ missing | trim }}] [{{ missing | list }}] {% for x in missing %}never{% endfor %}{{ missing == missing }} {{ 'a' ~ missing ~ 'b' }}",
"{{ messages[0].nothere is defined }} {{ messages[0].nothere.deeper is defined }}",
"{{ n.attr }}|{{ n['k'] }}|{{ d.a.b }}|{{ nums.length }}",
"##whitespace control and trim/lstrip",
"a\n\t{% if true %}\n\tb\n\t{% endif %}\nc",
"{% if true -%}\n\n   x\n{%- endif %}",
"x {{- ' y' }}\n  {%- for i in [1,2] %} {{ i }}{% endfor %}",
"a\n  {{- 'b' -}}\n  {% if true %}c{% endif %}\nd",
"{% for i in [1,2] %}{{ i }}\n{% endfor %}",
"  {% for i in [1,2] -%}\n    {{ i }}\n  {% endfor %}",
"a  {#- c -#}  b",
"{#\nmulti\nline\n#}\nafter",
"  {{ 'x' }}{% if true %}\n  {% endif %}",
"{ not a tag } {{ '{' }} {{ '}}' }} {{ {'a': {'b': 1}} }}",
"{% if true %}a{% elif false %}b{% else %}c{% endif %}|{% if false %}a{% elif true %}b{% endif %}|{% if false %}a{% endif %}",
"{%- if true -%}  a  {%- endif -%}",
"x {% if true %}y{% endif %}\n  z",
"\n  {%- raw -%}  {{ x }}  {%- endraw -%}\n  end",
"{% for i in [1] %}\n\n{% endfor %}\n\n",
"\t\t{% set x = 1 %}\n\t\t{{ x }}",
"##real template idioms",
"{{ bos_token if bos_token is defined else 'no bos' }}{{ eos_token | default('') }}",
"{%- if tools is not none and tools | length > 0 %}{{- tools[0].function.name }}{%- endif %}",
"{%- for tool in tools %}{{- tool.function.parameters | tojson(indent=4) }}{%- endfor %}",
"{{ messages | selectattr('role', 'equalto', 'system') | list | length }} {{ messages | map(attribute='role') | join(',') }}",
"{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] | trim %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}[{{ system_message }}]{% for m in loop_messages %}{{ m.role[0] }}{% endfor %}",
"{%- for part in parts.content %}{%- if part.type == 'text' %}{{ part.text }}{%- elif part.type == 'image' %}<image>{%- endif %}{%- endfor %}",
"{{ parts.content is string }} {{ messages[0].content is string }} {{ (parts.content | selectattr('type', 'equalto', 'text') | map(attribute='text') | join) }}",
"{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if ns.multi_step_tool and message.role == 'user' %}{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}{{ ns.last_query_index }}",
"{%- if '</think>' in think %}{{ think.split('</think>')[-1].lstrip('\\n') }}|{{ think.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}{%- endif %}",
"{% for message in messages %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}",
"{% for message in messages %}{{'<|' + message['role'] + '|>' + '\\n' + message['content'] + '<|end|>\\n'}}{% endfor %}",
"{%- for key, val in tools[0].function.items() if key != 'parameters' %}{%- if val is string %}{{- '\"' + key + '\": \"' + val + '\"' }}{%- else %}{{- '\"' + key + '\": ' + val|tojson }}{%- endif %}{%- if not loop.last %}{{- ', ' }}{%- endif %}{%- endfor %}{{- \"}}\" }}",
"{%- for message in messages %}{%- if message.tool_calls is defined %}{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}{{ tool_call.name }}({{ tool_call.arguments | tojson }}){%- endfor %}{%- endif %}{%- endfor %}",
"{% for m in messages %}{% if loop.index0 is divisibleby 2 %}{{ m.role }} {% endif %}{% endfor %}{{ messages[1:] | map(attribute='content') | map('trim') | list }}",
"{{ messages[0].content if messages[0].content is not none else '' }}|{{ (messages | last).role }}|{{ messages | length > 2 }}",
"{%- set content = messages[2]['content'] if messages[2]['content'] is string else '' %}{{ content | tojson | safe }}",
"##globals",
"{{ range(3) | list }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }}",
"##errors",
"{{ missing.attr }}",
"{{ missing['k'] }}",
"{{ 'a' + missing }}",
"{{ 1 + 'a' }}",
"{{ 'a' + 1 }}",
"{{ raise_exception('Roles must alternate') }}",
"line one\n{{ 1 / 0 }}",
"{% for x in 5 %}{% endfor %}",
"{% for x in n %}{% endfor %}",
"{{ nums.append(4) }}",
"{{ missing() }}",
"{{ 'x'() }}",
"{{ 1 < 'a' }}",
"{% set x.y = 1 %}",
"{{ missing < 1 }}",
"{{ -missing }}",
"{{ 'abc' | tojson }}{{ missing | tojson }}",
]
cases = []
topic = ""
for template in T:
    if template.startswith("##"):
        topic = template[2:]
        continue
    try:
        cases.append({"topic": topic, "template": template, "expected": env.from_string(template).render(**VARIABLES)})
    except Exception as e:
        cases.append({"topic": topic, "template": template, "error": str(e)})

here = os.path.dirname(os.path.abspath(__file__))
# The shared real templates with tools and tool calls (the shared cases have none).
shared = os.path.join(here, "..", "..", "..", "..", "..", "shared", "data", "chat-templates")
tool_conversation = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Time in UTC?"},
    {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_time", "arguments": {"zone": "UTC"}}}]},
    {"role": "tool", "content": "12:00"},
    {"role": "tool", "content": "(cached)"},
    {"role": "assistant", "content": "It is noon."},
]
for file in ["qwen2.5-instruct.jinja"]:
    with open(os.path.join(shared, file), encoding="utf-8") as f:
        source = f.read()
    for tools in [VARIABLES["tools"], None]:
        for prompt in [True, False]:
            variables = {"messages": tool_conversation, "tools": tools, "add_generation_prompt": prompt, "bos_token": "<s>", "eos_token": "</s>"}
            cases.append({"topic": "shared template with tools", "template_file": file, "variables": variables,
                          "expected": env.from_string(source).render(**variables)})

with open(os.path.join(here, "jinja2-expectations.json"), "w", encoding="utf-8") as f:
    json.dump({"jinja2": jinja2.__version__, "variables": VARIABLES, "cases": cases}, f, ensure_ascii=False, indent=1)
    f.write("\n")
