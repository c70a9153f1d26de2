// SPDX-License-Identifier: Apache-2.0
// cloud-init's mergers (agent/core/mergers.h): the spec parser in each
// form and each error, and every merger against the merge examples of
// cloud-init's documentation (doc/rtd/reference/merging.rst) and of its
// merge test data (tests/data/merge_sources/), written out here by hand.
#include "agent/core/mergers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace amiboot {
namespace {

Value yaml(const std::string& text, const std::string& source = "test") {
  auto v = parse_yaml(text, source);
  EXPECT_TRUE(v.ok()) << v.error().message;
  return v.ok() ? *v : Value{};
}

MergeSpec spec(const std::string& text) {
  Diagnostics d;
  auto s = parse_merge_spec(text, Position{"header"}, "Merge-Type", d);
  EXPECT_TRUE(s.has_value()) << text << ": " << (d.empty() ? "" : d[0].format());
  return s.value_or(MergeSpec{});
}

Diagnostic spec_error(const std::string& text) {
  Diagnostics d;
  auto s = parse_merge_spec(text, Position{"header"}, "Merge-Type", d);
  EXPECT_FALSE(s.has_value()) << text;
  EXPECT_EQ(d.size(), 1u) << text;
  return d.empty() ? Diagnostic{} : d[0];
}

Diagnostic key_error(const std::string& doc) {
  Diagnostics d;
  auto s = merge_spec_of(yaml(doc, "user-data"), d);
  EXPECT_FALSE(s.has_value()) << doc;
  EXPECT_EQ(d.size(), 1u) << doc;
  return d.empty() ? Diagnostic{} : d[0];
}

// What cloud-init's cloud-config handler does with a list of parts: each
// starts from an empty map, brings its own merge spec (its key, else the
// default), loses its merge keys, and is merged in.
Value merge_documents(const std::vector<std::string>& documents) {
  Value merged{Value::Kind::Map};
  for (std::size_t i = 0; i < documents.size(); ++i) {
    Value doc = yaml(documents[i], "part" + std::to_string(i + 1));
    Diagnostics d;
    auto how = merge_spec_of(doc, d);
    EXPECT_TRUE(how.has_value()) << (d.empty() ? "" : d[0].format());
    if (!how) {
      return Value{};
    }
    if (how->empty()) {
      *how = default_user_data_mergers();
    }
    std::erase_if(doc.entries, [](const Value::Entry& e) { return is_merge_key(e.key); });
    auto next = merge_values(merged, doc, *how, d);
    EXPECT_TRUE(next.has_value()) << (d.empty() ? "" : d[0].format());
    if (!next) {
      return Value{};
    }
    merged = std::move(*next);
  }
  return merged;
}

void expect_merge(const std::vector<std::string>& documents, const std::string& expected) {
  EXPECT_EQ(merge_documents(documents).to_json().dump(), yaml(expected).to_json().dump());
}

// ---- the spec parser ----

TEST(MergeSpec, ParsesTheStringFormOfAHeader) {
  MergeSpec s = spec("list(append)+dict(recurse_array,no_replace)+str()");
  ASSERT_TRUE(s.list && s.dict && s.str);
  EXPECT_EQ(s.list->method, ListMerger::Method::Append);
  EXPECT_FALSE(s.dict->replace);
  EXPECT_TRUE(s.dict->recurse_array);
  EXPECT_FALSE(s.dict->recurse_str);
  EXPECT_FALSE(s.dict->allow_delete);
  EXPECT_FALSE(s.str->append);
  EXPECT_EQ(s.to_string(), "list(append)+dict(no_replace,recurse_array)+str()");
}

TEST(MergeSpec, DefaultsOfEachMergerAreCloudInits) {
  MergeSpec s = spec("list()+dict()+str()");
  EXPECT_EQ(s.list->method, ListMerger::Method::Replace);  // m_list.py: replace
  EXPECT_FALSE(s.dict->replace);                           // m_dict.py: no_replace
  EXPECT_FALSE(s.str->append);
  // The cloud-config handler's own default when a part names nothing.
  EXPECT_EQ(default_user_data_mergers(), spec("dict(replace)+list()+str()"));
}

TEST(MergeSpec, NamesAndOptionsAreCanonicalizedAsCloudInitDoes) {
  EXPECT_EQ(spec(" List( Append ) + DICT(no-replace, Recurse-List) "),
            spec("list(append)+dict(no_replace,recurse_array)"));
  EXPECT_EQ(spec("m_list(prepend)"), spec("list(prepend)"));  // the module's name
  EXPECT_EQ(spec("list(append)++str(append)+"), spec("list(append)+str(append)"));
  EXPECT_EQ(spec("dict(recurse_list)"), spec("dict(recurse_array)"));  // aliases
  EXPECT_TRUE(spec("").empty());
  EXPECT_TRUE(spec("  ").empty());
}

TEST(MergeSpec, TheFirstMergerOfATypeWinsAndMethodsHaveAFixedPrecedence) {
  EXPECT_EQ(spec("list(append)+list(prepend)").list->method, ListMerger::Method::Append);
  // m_list.py looks for append, prepend, replace, no_replace in that order.
  EXPECT_EQ(spec("list(no_replace,prepend,append)").list->method, ListMerger::Method::Append);
  EXPECT_EQ(spec("list(no_replace,replace)").list->method, ListMerger::Method::Replace);
  // m_dict.py looks for replace before no_replace.
  EXPECT_TRUE(spec("dict(no_replace,replace)").dict->replace);
  // A setting meaningless to a merger is in cloud-init's schema: accepted.
  EXPECT_FALSE(spec("str(recurse_dict,prepend)").str->append);
}

TEST(MergeSpec, AddMissingTakesOnlyTheTypesNotYetNamed) {
  MergeSpec key = spec("list(prepend)");
  key.add_missing(spec("list(append)+dict(recurse_array)+str(append)"));
  EXPECT_EQ(key, spec("list(prepend)+dict(recurse_array)+str(append)"));
}

TEST(MergeSpec, ASegmentThatIsNotNameParenthesesIsAnErrorWithItsPosition) {
  Diagnostic d = spec_error("list(append)+dict");
  EXPECT_EQ(d.pos.source, "header");
  EXPECT_EQ(d.path, "Merge-Type");
  EXPECT_NE(d.message.find("'dict' is not a merger like list(append)"), std::string::npos)
      << d.message;
  EXPECT_NE(d.message.find("(character 14)"), std::string::npos) << d.message;
  EXPECT_NE(spec_error("list(append").message.find("(character 1)"), std::string::npos);
  EXPECT_NE(spec_error("list(append) + 9x()").message.find("(character 16)"), std::string::npos);
  spec_error("(append)");
  spec_error("li st(append)");
}

TEST(MergeSpec, AnUnknownMergerIsAnErrorWithItsPosition) {
  Diagnostic d = spec_error("list(append)+hash(replace)");
  EXPECT_NE(d.message.find("unknown merger 'hash'"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("(character 14)"), std::string::npos) << d.message;
  EXPECT_EQ(d.format(),
            "header: Merge-Type: unknown merger 'hash' (cloud-init has list, dict and str) "
            "(character 14)");
}

TEST(MergeSpec, AnUnknownOptionIsAnErrorWithItsPosition) {
  Diagnostic d = spec_error("list(append)+dict(recurse_array,overwrite)");
  EXPECT_NE(d.message.find("unknown merge setting 'overwrite' for dict()"), std::string::npos)
      << d.message;
  EXPECT_NE(d.message.find("(character 14)"), std::string::npos) << d.message;
}

TEST(MergeSpec, TheKeyInStringForm) {
  Diagnostics d;
  auto s = merge_spec_of(yaml("merge_how: 'dict(recurse_array,no_replace)+list(append)'\n"), d);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, spec("dict(recurse_array)+list(append)"));
  s = merge_spec_of(yaml("merge_type: 'list(append)+dict(recurse_array)+str()'\n"), d);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, spec("list(append)+dict(recurse_array)+str()"));
  // merge_how first; a null merge_how leaves it to merge_type.
  s = merge_spec_of(yaml("merge_how: list(prepend)\nmerge_type: list(append)\n"), d);
  EXPECT_EQ(s->list->method, ListMerger::Method::Prepend);
  s = merge_spec_of(yaml("merge_how: null\nmerge_type: list(append)\n"), d);
  EXPECT_EQ(s->list->method, ListMerger::Method::Append);
  // Neither, or an empty one: no spec of its own.
  EXPECT_TRUE(merge_spec_of(yaml("runcmd: [a]\n"), d)->empty());
  EXPECT_TRUE(merge_spec_of(yaml("merge_how: ''\n"), d)->empty());
  EXPECT_TRUE(merge_spec_of(yaml("merge_how: []\n"), d)->empty());
  EXPECT_TRUE(d.empty());
}

TEST(MergeSpec, TheKeyInListForm) {
  // merging.rst's dictionary format.
  Diagnostics d;
  auto s = merge_spec_of(yaml("merge_how:\n"
                              " - name: list\n"
                              "   settings: [append]\n"
                              " - name: dict\n"
                              "   settings: [no_replace, recurse_list]\n"
                              " - name: str\n"
                              "   settings: [append]\n"),
                         d);
  ASSERT_TRUE(s.has_value()) << (d.empty() ? "" : d[0].format());
  EXPECT_EQ(*s, spec("list(append)+dict(no_replace,recurse_list)+str(append)"));
  // dict_extract_mergers also reads [name, setting...] lists.
  s = merge_spec_of(yaml("merge_type: [[list, prepend], [dict, replace], [str]]\n"), d);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, spec("list(prepend)+dict(replace)+str()"));
  EXPECT_TRUE(d.empty());
}

TEST(MergeSpec, EachErrorOfTheKeyIsAtTheValueThatCausedIt) {
  Diagnostic d = key_error("merge_how: {name: list, settings: [append]}\n");
  EXPECT_EQ(d.path, "merge_how");
  EXPECT_EQ(d.pos, (Position{"user-data", 1, 12}));
  EXPECT_NE(d.message.find("got a map"), std::string::npos) << d.message;

  d = key_error("merge_how: 5\n");
  EXPECT_NE(d.message.find("'5' is not a merger like list(append)"), std::string::npos)
      << d.message;

  d = key_error("merge_how:\n  - name: list\n    settings: [append, sideways]\n");
  EXPECT_EQ(d.path, "merge_how[0].settings[1]");
  EXPECT_EQ(d.pos, (Position{"user-data", 3, 24}));
  EXPECT_NE(d.message.find("unknown merge setting 'sideways'"), std::string::npos);

  d = key_error("merge_how:\n  - name: array\n    settings: [append]\n");
  EXPECT_EQ(d.path, "merge_how[0]");
  EXPECT_EQ(d.pos, (Position{"user-data", 2, 11}));
  EXPECT_NE(d.message.find("unknown merger 'array'"), std::string::npos);

  d = key_error("merge_how:\n  - settings: [append]\n");
  EXPECT_EQ(d.path, "merge_how[0]");
  EXPECT_EQ(d.pos.line, 2);
  EXPECT_NE(d.message.find("needs a name"), std::string::npos);

  d = key_error("merge_how:\n  - name: str\n    settings: [append]\n    badkey: 1\n");
  EXPECT_EQ(d.path, "merge_how[0].badkey");
  EXPECT_EQ(d.pos, (Position{"user-data", 4, 5}));

  d = key_error("merge_how:\n  - name: list\n    settings: append\n");
  EXPECT_EQ(d.path, "merge_how[0].settings");
  EXPECT_NE(d.message.find("expected a list of settings"), std::string::npos);

  d = key_error("merge_how: [list]\n");
  EXPECT_EQ(d.path, "merge_how[0]");

  d = key_error("merge_type: 'list(append)+dict(recurse_array'\n");
  EXPECT_EQ(d.path, "merge_type");
  EXPECT_EQ(d.pos, (Position{"user-data", 1, 13}));
  EXPECT_NE(d.message.find("(character 14)"), std::string::npos) << d.message;
}

// ---- cloud-init's documented merges ----

TEST(Mergers, MergingRstRuncmdExample) {
  // doc/rtd/reference/merging.rst, "Example cloud-config".
  const std::string how =
      "merge_how:\n"
      " - name: list\n"
      "   settings: [append]\n"
      " - name: dict\n"
      "   settings: [no_replace, recurse_list]\n";
  expect_merge({how + "runcmd:\n  - bash1\n  - bash2\n", how + "runcmd:\n  - bash3\n  - bash4\n"},
               "runcmd: [bash1, bash2, bash3, bash4]");
}

TEST(Mergers, WithoutASpecALaterPartsListReplacesTheEarlierOne) {
  // merging.rst's opening example, as the default merges it (the mergers'
  // point is to make it append).
  expect_merge({"runcmd: [bash1, bash2]\n", "runcmd: [bash3, bash4]\n"}, "runcmd: [bash3, bash4]");
}

TEST(Mergers, Sources1DictRecurseArrayListAppend) {
  expect_merge({"Blah: ['blah2']\n",
                "Blah: ['b']\nmerge_how: 'dict(recurse_array,no_replace)+list(append)'\n"},
               "Blah: ['blah2', 'b']");
}

TEST(Mergers, Sources2DefaultReplacesKeys) {
  expect_merge({"Blah: 1\nBlah2: 2\nBlah3: 3\n", "Blah: 3\nBlah2: 2\nBlah3: [1]\n"},
               "Blah: 3\nBlah2: 2\nBlah3: [1]");
}

TEST(Mergers, Sources3ListPrepend) {
  expect_merge({"Blah: ['blah1']\n",
                "Blah: ['blah2']\nmerge_how: 'dict(recurse_array,no_replace)+list(prepend)'\n"},
               "Blah: [blah2, 'blah1']");
}

TEST(Mergers, Sources4DictAllowDelete) {
  expect_merge(
      {"Blah:\n  b: 1\n", "Blah:\n  b: null\nmerge_how: 'dict(allow_delete,no_replace)+list()'\n"},
      "Blah: {}");
}

TEST(Mergers, Sources5DictReplaceDoesNotMergeBelowAKey) {
  expect_merge({"Blah: 1\nBlah2: 2\nBlah3: 3\n",
                "Blah: 3\nBlah2: 2\nBlah3: [1]\nmerge_how: 'dict(replace)+list(append)'\n"},
               "Blah: 3\nBlah2: 2\nBlah3: [1]");
}

TEST(Mergers, Sources6MergeTypeListAppend) {
  expect_merge({"run_cmds:\n  - bash\n  - top\n",
                "run_cmds:\n  - ps\n  - vi\n  - emacs\n"
                "merge_type: 'list(append)+dict(recurse_array)+str()'\n"},
               "run_cmds: [bash, top, ps, vi, emacs]");
}

TEST(Mergers, Sources7UsersAppended) {
  expect_merge({"users:\n"
                "  - default\n"
                "  - name: foobar\n"
                "    gecos: Foo B. Bar\n"
                "    lock-passwd: false\n"
                "  - name: cloudy\n"
                "    inactive: '5'\n"
                "    system: true\n",
                "users:\n"
                "  - bob\n"
                "  - joe\n"
                "  - name: foobar_jr\n"
                "    gecos: Foo B. Bar Jr\n"
                "merge_how: \"dict(recurse_array)+list(append)\"\n"},
               "users:\n"
               "  - default\n"
               "  - {name: foobar, gecos: Foo B. Bar, lock-passwd: false}\n"
               "  - {name: cloudy, inactive: '5', system: true}\n"
               "  - bob\n"
               "  - joe\n"
               "  - {name: foobar_jr, gecos: Foo B. Bar Jr}\n");
}

TEST(Mergers, Sources8ListReplaceMergesByIndexAndKeepsTheLength) {
  expect_merge({"mounts:\n"
                " - [ ephemeral0, /mnt, auto, \"defaults,noexec\" ]\n"
                " - [ sdc, /opt/data ]\n"
                " - [ xvdh, /opt/data, \"auto\", \"defaults,nofail\", \"0\", \"0\" ]\n"
                " - [ dd, /dev/zero ]\n",
                "mounts:\n"
                " - [ ephemeral22, /mnt, auto, \"defaults,noexec\" ]\n"
                "merge_how: 'dict(recurse_array)+list(recurse_list,recurse_str)+str()'\n"},
               "mounts:\n"
               " - [ ephemeral22, /mnt, auto, \"defaults,noexec\" ]\n"
               " - [ sdc, /opt/data ]\n"
               " - [ xvdh, /opt/data, \"auto\", \"defaults,nofail\", \"0\", \"0\" ]\n"
               " - [ dd, /dev/zero ]\n");
}

TEST(Mergers, Sources9StrAppend) {
  expect_merge({"phone_home:\n"
                " url: http://my.example.com/i-1/\n"
                " post: [ pub_key_rsa, pub_key_ecdsa, instance_id ]\n",
                "phone_home:\n url: $BLAH_BLAH\nmerge_how: 'dict(recurse_str)+str(append)'\n"},
               "phone_home:\n"
               " url: http://my.example.com/i-1/$BLAH_BLAH\n"
               " post: [ pub_key_rsa, pub_key_ecdsa, instance_id ]\n");
}

TEST(Mergers, Sources10NestedListAppend) {
  expect_merge(
      {"power_state:\n delay: '+30'\n mode: poweroff\n message: [Bye, Bye]\n",
       "power_state:\n  message: [Pew, Pew]\nmerge_how: 'dict(recurse_list)+list(append)'\n"},
      "power_state: {delay: '+30', mode: poweroff, message: [Bye, Bye, Pew, Pew]}");
}

TEST(Mergers, Sources11ThreePartsByDefault) {
  expect_merge({"a: 1\nb: 2\nc: 3\n", "b: 4\n", "a: 22\n"}, "a: 22\nb: 4\nc: 3");
}

TEST(Mergers, Sources12DefaultReplacesANestedMapWhole) {
  expect_merge({"a:\n  c: 1\n  d: 2\n  e:\n    z: a\n    y: b\n", "a:\n  e:\n    y: 2\n"},
               "a:\n  e:\n    y: 2\n");
}

// ---- each merger's options, beyond the examples ----

Value merged(const std::string& base, const std::string& over, const std::string& how) {
  Diagnostics d;
  auto v = merge_values(yaml(base, "base"), yaml(over, "over"), spec(how), d);
  EXPECT_TRUE(v.has_value()) << (d.empty() ? "" : d[0].format());
  return v.value_or(Value{});
}

std::string merged_json(const std::string& base, const std::string& over, const std::string& how) {
  return merged(base, over, how).to_json().dump();
}

TEST(Mergers, DictNoReplaceKeepsEarlierScalarsAndMergesMaps) {
  EXPECT_EQ(merged_json("a: 1\nb: {x: 1}\nc: [1]\n", "a: 2\nb: {y: 2}\nc: [2]\nd: 4\n", "dict()"),
            R"({"a":1,"b":{"x":1,"y":2},"c":[1],"d":4})");
  // recurse_str with a str merger: strings are merged (replaced here).
  EXPECT_EQ(merged_json("a: x\n", "a: y\n", "dict(recurse_str)+str()"), R"({"a":"y"})");
  // Without the merger for a type, the earlier value stays even when asked to recurse.
  EXPECT_EQ(merged_json("a: [1]\n", "a: [2]\n", "dict(recurse_array)"), R"({"a":[1]})");
}

TEST(Mergers, DictAllowDeleteRemovesOnlyKeysALaterNullNames) {
  EXPECT_EQ(merged_json("a: 1\nb: 2\n", "a: null\nc: null\n", "dict(allow_delete,replace)"),
            R"({"b":2,"c":null})");
  EXPECT_EQ(merged_json("a: 1\n", "a: null\n", "dict(replace)"), R"({"a":null})");
  EXPECT_EQ(merged_json("a: 1\n", "a: null\n", "dict(no_replace)"), R"({"a":1})");
}

TEST(Mergers, ListMethods) {
  const std::string base = "l: [1, 2, 3]\n";
  const std::string over = "l: [a, b]\n";
  EXPECT_EQ(merged_json(base, over, "dict(recurse_list)+list(append)"), R"({"l":[1,2,3,"a","b"]})");
  EXPECT_EQ(merged_json(base, over, "dict(recurse_list)+list(prepend)"),
            R"({"l":["a","b",1,2,3]})");
  EXPECT_EQ(merged_json(base, over, "dict(recurse_list)+list(no_replace)"), R"({"l":[1,2,3]})");
  // replace: index by index, the earlier list's length kept (m_list.py).
  EXPECT_EQ(merged_json(base, over, "dict(recurse_list)+list(replace)"), R"({"l":["a","b",3]})");
  EXPECT_EQ(merged_json("l: [1]\n", over, "dict(recurse_list)+list()"), R"({"l":["a"]})");
  // A later value that is not a list replaces it.
  EXPECT_EQ(merged_json(base, "l: {k: v}\n", "dict()+list()"), R"({"l":{"k":"v"}})");
  // recurse_dict merges maps item by item.
  EXPECT_EQ(merged_json("l: [{a: 1}]\n", "l: [{b: 2}]\n", "dict(recurse_list)+list(recurse_dict)"),
            R"({"l":[{"a":1,"b":2}]})");
}

TEST(Mergers, StrAppendAndReplace) {
  EXPECT_EQ(merged_json("s: ab\n", "s: cd\n", "dict(recurse_str)+str(append)"), R"({"s":"abcd"})");
  EXPECT_EQ(merged_json("s: ab\n", "s: cd\n", "dict(recurse_str)+str()"), R"({"s":"cd"})");
  // "tr" + "ue" is the string "true", not a boolean.
  Value v = merged("s: tr\n", "s: ue\n", "dict(recurse_str)+str(append)");
  EXPECT_EQ(v.get("s")->type_name(), "a string");
  // Numbers and booleans are no strings: nothing merges them, the earlier stays.
  EXPECT_EQ(merged_json("n: 1\n", "n: '2'\n", "dict(recurse_str)+str(append)"), R"({"n":1})");
}

TEST(Mergers, WithoutADictMergerNothingIsMerged) {
  // LookupMerger finds no _on_dict and keeps the earlier map.
  EXPECT_EQ(merged_json("a: 1\n", "a: 2\nb: 3\n", "list(append)"), R"({"a":1})");
}

TEST(Mergers, AppendingWhatCloudInitCannotIsAnErrorAtTheLaterValue) {
  Diagnostics d;
  // Without recurse_str the dict merger keeps the list; with it, cloud-init
  // would append the string's characters.
  auto v = merge_values(yaml("runcmd: [a]\n", "base"), yaml("runcmd: bc\n", "over"),
                        spec("dict()+list(append)"), d);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->to_json().dump(), R"({"runcmd":["a"]})");
  v = merge_values(yaml("runcmd: [a]\n", "base"), yaml("runcmd: bc\n", "over"),
                   spec("dict(recurse_str)+list(append)"), d);
  EXPECT_FALSE(v.has_value());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].format(),
            "over:1:9: runcmd: cannot append a string to a list (the merge spec "
            "says list(append))");
  d.clear();
  v = merge_values(yaml("runcmd: [a]\n", "base"), yaml("runcmd: {b: 1}\n", "over"),
                   spec("dict()+list(append)"), d);
  EXPECT_FALSE(v.has_value());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].format(),
            "over:1:9: runcmd: cannot append a map to a list (the merge spec says "
            "list(append))");
  d.clear();
  v = merge_values(yaml("a: {s: x}\n", "base"), yaml("a: {s: [1]}\n", "over"),
                   spec("dict(recurse_array)+str(append)"), d);
  EXPECT_FALSE(v.has_value());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, "a.s");
  EXPECT_EQ(d[0].pos, (Position{"over", 1, 8}));
}

TEST(Mergers, MergedValuesKeepWhereEachPieceWasWritten) {
  Value v = merged("runcmd: [one]\nhostname: h\n", "runcmd: [two]\nfqdn: f\n",
                   "list(append)+dict(recurse_array)");
  const Value* runcmd = v.get("runcmd");
  ASSERT_NE(runcmd, nullptr);
  ASSERT_EQ(runcmd->items.size(), 2u);
  EXPECT_EQ(runcmd->items[0].pos, (Position{"base", 1, 10}));
  EXPECT_EQ(runcmd->items[1].pos, (Position{"over", 1, 10}));
  EXPECT_EQ(v.get("fqdn")->pos.source, "over");
  EXPECT_EQ(v.get("hostname")->pos.source, "base");
}

TEST(Mergers, SameData) {
  EXPECT_TRUE(same_data(yaml("a: [1, {b: c}]\n", "x"), yaml("a:\n  - 1\n  - b: c\n", "y")));
  EXPECT_FALSE(same_data(yaml("a: '1'\n"), yaml("a: 1\n")));
  EXPECT_FALSE(same_data(yaml("a: [1]\n"), yaml("a: [1, 2]\n")));
}

}  // namespace
}  // namespace amiboot
