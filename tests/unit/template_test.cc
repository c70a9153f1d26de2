// SPDX-License-Identifier: Apache-2.0
// The Jinja subset of agent/core/template.h: each construct, each error with
// its position, the limits.
#include "agent/core/template.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace amiboot {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const nlohmann::json& context() {
  static const nlohmann::json ctx = nlohmann::json::parse(R"({
    "v1": {"region": "us-east-2", "availability_zone": "us-east-2b", "instance_id": "i-abc",
           "count": 3, "ratio": 1.5, "flag": true, "nothing": null, "keys": ["k1", "k2"],
           "empty": []},
    "ds": {"meta_data": {"local-hostname": "ip-10-0-0-1",
                         "placement": {"availability-zone": "us-east-2b"}}},
    "items": ["a", "b", "c"],
    "map": {"b": 2, "a": 1}
  })");
  return ctx;
}

// The output, or "error: " and the message.
std::string render(std::string_view text) {
  auto r = render_template(text, context(), "user-data");
  return r ? *r : "error: " + r.error().message;
}

TEST(Template, PlainTextIsUnchanged) {
  EXPECT_EQ(render("hello\nworld\n"), "hello\nworld\n");
  EXPECT_EQ(render(""), "");
  EXPECT_EQ(render("a { b } %} }} #}\n"), "a { b } %} }} #}\n");
}

TEST(Template, DottedAndBracketAccess) {
  EXPECT_EQ(render("{{ v1.region }} {{ ds.meta_data['local-hostname'] }} {{ items[0] }} "
                   "{{ items[-1] }} {{ items.1 }} "
                   "{{ ds[\"meta_data\"].placement['availability-zone'] }} {{ map['a'] }}"),
            "us-east-2 ip-10-0-0-1 a c b us-east-2b 1");
}

TEST(Template, LiteralsPrintAsPythonDoes) {
  EXPECT_EQ(render("{{ 'a' }}|{{ \"b\" }}|{{ 42 }}|{{ -7 }}|{{ 1.5 }}|{{ 2.0 }}|{{ true }}|"
                   "{{ False }}|{{ none }}|{{ [1, 'x', None] }}|{{ map }}|{{ 1e20 }}|"
                   "{{ 0.0001 }}|{{ v1.ratio }}|{{ ('t', 1) }}|{{ v1.keys }}|{{ 'it\\'s' }}"),
            "a|b|42|-7|1.5|2.0|True|False|None|[1, 'x', None]|{'a': 1, 'b': 2}|1e+20|"
            "0.0001|1.5|['t', 1]|['k1', 'k2']|it's");
  EXPECT_EQ(render("{{ [\"it's\", 'a\\nb'] }}"), "[\"it's\", 'a\\nb']");
}

TEST(Template, Filters) {
  EXPECT_EQ(render("{{ v1.region | upper }} {{ 'ABC' | lower }} [{{ '  x  ' | trim }}] "
                   "{{ v1.region | replace('-', '_') }} {{ 'aaa' | replace('a', 'b', 2) }} "
                   "{{ items | join(',') }} {{ items | length }} {{ v1.count | string }}"),
            "US-EAST-2 abc [x] us_east_2 bba a,b,c 3 3");
}

TEST(Template, DefaultCatchesAnUndefinedVariable) {
  EXPECT_EQ(render("{{ v1.missing | default('dflt') }} {{ v1.missing | d('d2') }} "
                   "[{{ '' | default('e') }}] {{ '' | default('e', true) }} "
                   "{{ '' | d('f', boolean=true) }} {{ v1.missing | default('A') | lower }} "
                   "{{ nothere.at.all | default('x') }} {{ v1.nothing | default('x') }} "
                   "[{{ v1.missing | default }}] {{ v1.region.x | default('y') }}"),
            "dflt d2 [] e f a x None [] y");
}

TEST(Template, UndefinedVariableIsAnErrorNamingIt) {
  EXPECT_EQ(render("x\n  {{ v1.regoin }}"),
            "error: user-data:2:9: undefined 'v1.regoin', expected a key of v1 "
            "(availability_zone, count, empty, flag, instance_id, keys, nothing, ratio, region) "
            "or '| default(...)'");
  EXPECT_EQ(render("{{ foo }}"),
            "error: user-data:1:4: undefined 'foo', expected a top-level name "
            "(ds, items, map, v1) or '| default(...)'");
  EXPECT_EQ(render("{{ ds.meta_data['public-hostname'] }}"),
            "error: user-data:1:16: undefined 'ds.meta_data['public-hostname']', expected a key "
            "of ds.meta_data (local-hostname, placement) or '| default(...)'");
  EXPECT_EQ(render("{{ items[7] }}"),
            "error: user-data:1:9: undefined 'items[7]', expected an index below 3 for items or "
            "'| default(...)'");
  EXPECT_EQ(render("{{ v1.region.name }}"),
            "error: user-data:1:14: undefined 'v1.region.name', expected a map or list at "
            "v1.region, not a string or '| default(...)'");
  // In a condition, too: the subset is strict.
  EXPECT_THAT(render("{% if v1.nope == 'x' %}{% endif %}"),
              StartsWith("error: user-data:1:10: undefined 'v1.nope'"));
}

TEST(Template, IfElifElse) {
  EXPECT_EQ(render("{% if v1.region == 'us-east-1' %}one{% elif v1.region == 'us-east-2' %}two"
                   "{% else %}other{% endif %}"),
            "two");
  EXPECT_EQ(render("{% if false %}a{% elif false %}b{% else %}c{% endif %}"), "c");
  EXPECT_EQ(render("{% if false %}a{% endif %}"), "");
  EXPECT_EQ(render("{% if v1.empty %}a{% elif v1.keys %}b{% endif %}"), "b");
}

TEST(Template, ComparisonsAndLogic) {
  EXPECT_EQ(render("{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'b' >= 'a' }} {{ v1.count != 3 }} "
                   "{{ 'a' in items }} {{ 'z' not in items }} {{ 'east' in v1.region }} "
                   "{{ 'a' in map }} {{ not v1.flag }} {{ v1.flag and v1.count }} "
                   "{{ v1.empty or 'fallback' }} {{ (1 < 2) and (2 < 3 or false) }} "
                   "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ v1.region in ['us-east-2', 'eu-west-1'] }} "
                   "{{ 1 == 1.0 }} {{ not not 0 }} {{ v1.ratio > 1 }}"),
            "True True False True False True True True True False 3 fallback True True False "
            "True True False True");
}

TEST(Template, TestsConditionalExpressionAndConcatenation) {
  EXPECT_EQ(render("{{ v1.region is defined }} {{ v1.nope is defined }} "
                   "{{ v1.nope is not defined }} {{ v1.nope is undefined }} "
                   "{{ v1.nothing is none }} {{ v1.region is none }}"),
            "True False True True True False");
  EXPECT_EQ(render("{% if v1.nope is defined and v1.nope == 1 %}x{% else %}y{% endif %}"), "y");
  EXPECT_EQ(render("{{ 'y' if v1.flag else 'n' }} [{{ 'y' if false }}]"), "y []");
  EXPECT_EQ(render("{{ v1.region ~ '/' ~ v1.count }} {{ 1 + 2 }} {{ 'a' + 'b' }} {{ 1.5 + 1 }} "
                   "{{ [1] + [2] }}"),
            "us-east-2/3 3 ab 2.5 [1, 2]");
}

TEST(Template, ForLoopsOverListsAndMapKeys) {
  EXPECT_EQ(render("{% for x in items %}{{ loop.index }}:{{ x }}{% if not loop.last %},"
                   "{% endif %}{% endfor %}"),
            "1:a,2:b,3:c");
  EXPECT_EQ(render("{% for k in map %}{{ k }}={{ map[k] }};{% endfor %}"), "a=1;b=2;");
  EXPECT_EQ(render("{% for x in v1.empty %}x{% else %}none{% endfor %}"), "none");
  EXPECT_EQ(render("{% for x in [3, 4] %}{{ loop.index0 }}{{ loop.first }}{{ loop.revindex }}"
                   "{{ loop.length }} {% endfor %}"),
            "0True22 1False12 ");
  // The loop variable shadows a top-level name, and is gone after the loop.
  EXPECT_EQ(render("{% for v1 in items %}{{ v1 }}{% endfor %} {{ v1.region }}"), "abc us-east-2");
}

TEST(Template, NestedForAndIf) {
  EXPECT_EQ(render("{% for x in items %}{% for y in v1.keys %}{% if loop.first and x != 'b' %}"
                   "{{ x }}{{ y }} {% endif %}{% endfor %}{% endfor %}"),
            "ak1 ck1 ");
  EXPECT_EQ(render("{% for x in items %}{% if x == 'a' %}A{% elif x == 'b' %}{% for y in items %}"
                   "{{ y }}{% endfor %}{% else %}C{% endif %}{% endfor %}"),
            "AabcC");
}

TEST(Template, CommentsAndRaw) {
  EXPECT_EQ(render("a{# hidden {{ x }} {% if %} #}b"), "ab");
  EXPECT_EQ(render("{# one\n two #}\nc"), "c");  // trim_blocks applies to comments
  EXPECT_EQ(render("{% raw %}{{ not rendered }} {% if %}{% endraw %}"),
            "{{ not rendered }} {% if %}");
}

TEST(Template, WhitespaceControlAndTrimBlocksAsCloudInit) {
  EXPECT_EQ(render("{% if true %}\n  yes\n{% endif %}"), "  yes\n");
  EXPECT_EQ(render("{% if true %}\n  yes\n{% endif %}\n"), "  yes\n\n");  // as cloud-init
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(render("a {{- ' x ' -}} b"), "a x b");
  EXPECT_EQ(render("a\n  {#- c -#}\n  b"), "ab");
  EXPECT_EQ(render("{% if true +%}\nx{% endif %}"), "\nx");
  EXPECT_EQ(render("{{ 'a' }}\n{{ 'b' }}\n"), "a\nb\n");  // no trimming after {{ }}
  // cloud-init's documented example.
  EXPECT_EQ(render("#!/bin/bash\n{% if v1.region == 'us-east-2' -%}\n"
                   "echo 'Installing custom proxies for {{ v1.region }}'\n"
                   "sudo apt-get install my-xtra-fast-stack\n{%- endif %}\n"),
            "#!/bin/bash\necho 'Installing custom proxies for us-east-2'\n"
            "sudo apt-get install my-xtra-fast-stack\n");
  // Jinja drops the template's final newline and cloud-init adds one back.
  EXPECT_EQ(render("{% for x in items %}\n- {{ x }}\n{% endfor %}\n"), "- a\n- b\n- c\n\n");
}

TEST(Template, ErrorsCarryLineAndColumn) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"a\nb {{ v1.region", "user-data:2:3: unterminated '{{', expected '}}'"},
      {"{% if x", "user-data:1:1: unterminated '{%', expected '%}'"},
      {"ab{# x", "user-data:1:3: unterminated comment '{#', expected '#}'"},
      {"{{ 'abc }}", "user-data:1:4: unterminated string, expected a closing '"},
      {"{% frobnicate %}",
       "user-data:1:4: unknown tag 'frobnicate', expected if, elif, else, endif, for, endfor or "
       "raw"},
      {"line\n{% set x = 1 %}",
       "user-data:2:4: '{% set %}' is not in amiboot's Jinja subset, expected if, elif, else, "
       "endif, for, endfor or raw"},
      {"{% macro m() %}{% endmacro %}",
       "user-data:1:4: '{% macro %}' is not in amiboot's Jinja subset, expected if, elif, else, "
       "endif, for, endfor or raw"},
      {"{% include 'x' %}",
       "user-data:1:4: '{% include %}' is not in amiboot's Jinja subset, expected if, elif, "
       "else, endif, for, endfor or raw"},
      {"{{ x | shout }}",
       "user-data:1:8: unknown filter 'shout', expected default, d, lower, upper, replace, trim, "
       "join, length, count or string"},
      {"a\n{% if true %}\nb",
       "user-data:2:1: unclosed '{% if %}', expected '{% endif %}' before the end of the "
       "template"},
      {"{% for x in items %}{% if x %}{% endif %}",
       "user-data:1:1: unclosed '{% for %}', expected '{% endfor %}' before the end of the "
       "template"},
      {"{% raw %}x", "user-data:1:1: unclosed '{% raw %}', expected '{% endraw %}'"},
      {"{% endif %}",
       "user-data:1:4: unexpected '{% endif %}', expected no '{% endif %}' outside a block"},
      {"{% for x in items %}\n{% endif %}",
       "user-data:2:4: unexpected '{% endif %}', expected '{% endfor %}' to close '{% for %}' "
       "of line 1"},
      {"{% if true %}{% else %}{% elif true %}{% endif %}",
       "user-data:1:27: unexpected '{% elif %}', expected '{% endif %}' to close '{% if %}' of "
       "line 1"},
      {"{{ v1.region.upper() }}",
       "user-data:1:19: unexpected '(', expected a filter such as '| lower' (calls are not in "
       "amiboot's Jinja subset)"},
      {"{{ }}", "user-data:1:4: unexpected '}}', expected an expression"},
      {"{{ a @ b }}", "user-data:1:6: unexpected character '@', expected an expression or '}}'"},
      {"{{ a b }}", "user-data:1:6: unexpected 'b', expected '}}'"},
      {"{% if true }}", "user-data:1:12: unexpected '}}', expected '%}'"},
      {"{% if true %}{% endif x %}",
       "user-data:1:23: unexpected 'x', expected '%}' to end '{% endif %}'"},
      {"{{ 1 < 'a' }}",
       "user-data:1:6: cannot compare a number with a string using '<', expected two numbers "
       "or two strings"},
      {"{{ 1 in 2 }}",
       "user-data:1:6: 'in' given a number on the right, expected a list, a map or a string"},
      {"{{ 1 + 'a' }}",
       "user-data:1:6: cannot add a string to a number, expected two numbers, two strings or "
       "two lists (or '~' to join as text)"},
      {"{% for x in v1.count %}{% endfor %}",
       "user-data:1:16: cannot loop over a number ('v1.count'), expected a list or a map"},
      {"{{ 'a' | replace('a') }}",
       "user-data:1:10: filter 'replace' given 1 argument(s), expected 2 to 3"},
      {"{{ 'a' | upper('x') }}", "user-data:1:10: filter 'upper' given 1 argument(s), expected 0"},
      {"{{ x is odd }}", "user-data:1:9: unknown test 'odd', expected defined, undefined or none"},
      {"{% for a, b in map %}{% endfor %}",
       "user-data:1:9: unexpected ',', expected one loop variable ('for a, b in' is not in "
       "amiboot's Jinja subset)"},
      {"{{ items[0:1] }}",
       "user-data:1:11: unexpected ':', expected ']' (slices are not in amiboot's Jinja subset)"},
      {"{{ {'a': 1} }}", "user-data:1:4: unexpected character '{', expected an expression or '}}'"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(render(c.text), std::string("error: ") + c.error) << c.text;
  }
}

TEST(Template, SourceNameAndFirstLineInErrors) {
  auto r = render_template("x\n{{ nope }}", context(), "part-002", 5);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, StartsWith("part-002:6:4: undefined 'nope'"));
}

TEST(Template, JinjaUserDataHeader) {
  EXPECT_TRUE(has_jinja_header("## template: jinja\n#cloud-config\n"));
  EXPECT_TRUE(has_jinja_header("##template:JINJA  \r\nx"));
  EXPECT_TRUE(has_jinja_header("## Template: Jinja"));
  EXPECT_FALSE(has_jinja_header("#cloud-config\n## template: jinja\n"));
  EXPECT_FALSE(has_jinja_header("## template: basic\n"));
  EXPECT_FALSE(has_jinja_header("# template: jinja\n"));

  auto r = render_jinja_user_data("## template: jinja\n#cloud-config\nregion: {{ v1.region }}\n",
                                  context(), "user-data");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "#cloud-config\nregion: us-east-2\n");
  r = render_jinja_user_data("## template: jinja\n#!/bin/sh\necho {{ nope }}\n", context(),
                             "part-001");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, StartsWith("part-001:3:9: undefined 'nope'"));
  r = render_jinja_user_data("#cloud-config\n", context(), "user-data");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "user-data:1:1: no template header, expected '## template: jinja' on the first line");
}

TEST(Template, AMebibyteTemplateRenders) {
  const std::string line =
      "{% if v1.flag %}yes{% endif %} host {{ v1.instance_id }} in {{ v1.region | upper }} "
      "{# note #}{{ ds.meta_data['local-hostname'] | default('h') }}\n";
  const std::string want = "yes host i-abc in US-EAST-2 ip-10-0-0-1\n";
  std::string text;
  std::string expected;
  while (text.size() < (1u << 20)) {
    text += line;
    expected += want;
  }
  text += "{% for x in items %}{{ x }}{% endfor %}\n";
  expected += "abc\n";
  auto r = render_template(text, context(), "user-data");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, expected);
}

TEST(Template, DeepNestingIsRefusedWithTheLimitNamed) {
  std::string ok;
  std::string deep;
  for (int i = 0; i < kTemplateMaxDepth; ++i) {
    ok += "{% if true %}";
  }
  ok += "x";
  for (int i = 0; i < kTemplateMaxDepth; ++i) {
    ok += "{% endif %}";
  }
  EXPECT_EQ(render(ok), "x");
  deep = "{% if true %}" + ok + "{% endif %}";
  EXPECT_EQ(render(deep), "error: user-data:1:" + std::to_string(13 * kTemplateMaxDepth + 1) +
                              ": nested too deeply, expected at most 64 levels (the template "
                              "nesting limit)");

  const std::string limit = "nested too deeply, expected at most 64 levels";
  EXPECT_THAT(render("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}"),
              HasSubstr(limit));
  EXPECT_THAT(render("{{ " + std::string(100000, '[') + " }}"), HasSubstr(limit));
  std::string nots;
  for (int i = 0; i < 100000; ++i) {
    nots += "not ";
  }
  EXPECT_THAT(render("{{ " + nots + "true }}"), HasSubstr(limit));
  std::string chain = "{{ v1";
  std::string ors = "{{ 1";
  std::string filters = "{{ 'a'";
  for (int i = 0; i < 100000; ++i) {
    chain += ".a";
    ors += " or 1";
    filters += " | lower";
  }
  EXPECT_THAT(render(chain + " }}"), HasSubstr(limit));
  EXPECT_THAT(render(ors + " }}"), HasSubstr(limit));
  EXPECT_THAT(render(filters + " }}"), HasSubstr(limit));
  std::string fors;
  for (int i = 0; i < 100000; ++i) {
    fors += "{% for x in items %}";
  }
  EXPECT_THAT(render(fors), HasSubstr(limit));
}

TEST(Template, OutputIsBounded) {
  const std::string kib(1024, 'x');
  std::string text =
      "{% for a in [1,2,3,4,5,6,7,8,9,10] %}{% for b in [1,2,3,4,5,6,7,8,9,10] %}"
      "{% for c in [1,2,3,4,5,6,7,8,9,10] %}{% for d in [1,2,3,4,5,6,7,8,9,10] %}"
      "{% for e in [1,2,3,4,5,6,7,8,9,10] %}" +
      kib + "{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}";
  EXPECT_THAT(render(text), HasSubstr("output larger than 16 MiB, expected at most 16777216 bytes "
                                      "(the template output limit)"));
  // A value that doubles at each filter is stopped too.
  std::string grow = "{{ '" + kib + "'";
  for (int i = 0; i < 40; ++i) {
    grow += " | replace('" + kib + "', '" + kib + kib + "')";
  }
  EXPECT_THAT(render(grow + " }}"), HasSubstr("the template output limit"));
}

TEST(Template, WorkIsBounded) {
  // Loops that print nothing still count.
  std::string list = "[";
  for (int i = 0; i < 300; ++i) {
    list += "0,";
  }
  list += "0]";
  std::string text = "{% for a in " + list + " %}{% for b in " + list + " %}{% for c in " + list +
                     " %}{% endfor %}{% endfor %}{% endfor %}";
  EXPECT_THAT(render(text), HasSubstr("evaluation steps, expected at most that many (the template "
                                      "step limit)"));
}

}  // namespace
}  // namespace amiboot
