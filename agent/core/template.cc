// SPDX-License-Identifier: Apache-2.0
// The Jinja subset of template.h: lexer → tokens, parser → AST, renderer.
// Errors travel inside as TemplateError (a position and a message) and leave
// render_template() as Error, "SOURCE:LINE:COL: message".
#include "agent/core/template.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace amiboot {

namespace {

using nlohmann::json;

// std::strtod, not std::from_chars: libstdc++'s from_chars for double makes
// the binary need libm (a few hundred KiB in every command's RSS). The lexer
// has already checked the digits; amiboot never calls setlocale, so strtod
// reads the C locale's '.'.
bool parse_double(const std::string& text, double& out) {
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return errno != ERANGE && end == text.c_str() + text.size();
}

struct Pos {
  int line = 1;
  int col = 1;
};

struct TemplateError {
  Pos pos;
  std::string message;
};

[[noreturn]] void fail(Pos pos, std::string message) {
  throw TemplateError{pos, std::move(message)};
}

const std::string kLimitDepth = std::to_string(kTemplateMaxDepth);

[[noreturn]] void fail_depth(Pos pos) {
  fail(pos, "nested too deeply, expected at most " + kLimitDepth +
                " levels (the template nesting limit)");
}

constexpr std::string_view kSpace = " \t\r\n\f\v";

bool is_jinja_space(char c) {
  return kSpace.find(c) != std::string_view::npos;
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// ---------------------------------------------------------------- lexer --

enum class Tok { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
  Tok kind;
  std::string text;  // Text, Name, String, Op
  Pos pos;
  std::int64_t i = 0;
  double f = 0;
};

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::Text:
      return "text";
    case Tok::VarBegin:
      return "'{{'";
    case Tok::VarEnd:
      return "'}}'";
    case Tok::BlockBegin:
      return "'{%'";
    case Tok::BlockEnd:
      return "'%}'";
    case Tok::Name:
    case Tok::Op:
      return "'" + t.text + "'";
    case Tok::String:
      return "a string";
    case Tok::Int:
    case Tok::Float:
      return "a number";
    case Tok::Eof:
      return "the end of the template";
  }
  return "?";
}

class Lexer {
 public:
  Lexer(std::string_view s, int first_line) : m_s(s), m_line(first_line) {}

  std::vector<Token> run() {
    bool lstrip = false;  // after `-%}`: drop the whitespace that follows
    bool trim = false;    // after `%}` or `#}`: drop one newline (trim_blocks)
    while (m_i < m_s.size()) {
      std::size_t open = find_open(m_i);
      std::size_t end = open == std::string_view::npos ? m_s.size() : open;
      std::string_view chunk = m_s.substr(m_i, end - m_i);
      chunk = after_tag(chunk, lstrip, trim);
      if (open != std::string_view::npos && open + 2 < m_s.size() && m_s[open + 2] == '-') {
        chunk = rstrip(chunk);
      }
      text(chunk);
      advance_to(end);
      lstrip = trim = false;
      if (open == std::string_view::npos) {
        break;
      }
      Pos at = pos();
      char kind = m_s[open + 1];
      std::size_t after = open + 2;
      if (after < m_s.size() && (m_s[after] == '-' || m_s[after] == '+')) {
        ++after;
      }
      advance_to(after);
      char modifier = 0;
      if (kind == '#') {
        std::size_t close = m_s.find("#}", m_i);
        if (close == std::string_view::npos) {
          fail(at, "unterminated comment '{#', expected '#}'");
        }
        if (close > m_i && (m_s[close - 1] == '-' || m_s[close - 1] == '+')) {
          modifier = m_s[close - 1];
        }
        advance_to(close + 2);
      } else {
        m_tokens.push_back(Token{kind == '{' ? Tok::VarBegin : Tok::BlockBegin, "", at});
        modifier = tag(kind == '{', at);
        if (kind == '%' && is_raw()) {
          modifier = raw(at, modifier);
        }
      }
      lstrip = modifier == '-';
      trim = kind != '{' && modifier != '-' && modifier != '+';
    }
    m_tokens.push_back(Token{Tok::Eof, "", pos()});
    return std::move(m_tokens);
  }

 private:
  Pos pos() const { return Pos{m_line, static_cast<int>(m_i - m_line_start) + 1}; }

  void advance_to(std::size_t to) {
    for (std::size_t k = m_i; k < to; ++k) {
      if (m_s[k] == '\n') {
        ++m_line;
        m_line_start = k + 1;
      }
    }
    m_i = to;
  }

  bool at(std::size_t i, std::string_view what) const { return m_s.substr(i, what.size()) == what; }

  std::size_t find_open(std::size_t from) const {
    for (std::size_t k = m_s.find('{', from); k != std::string_view::npos;
         k = m_s.find('{', k + 1)) {
      if (k + 1 < m_s.size() && (m_s[k + 1] == '{' || m_s[k + 1] == '%' || m_s[k + 1] == '#')) {
        return k;
      }
    }
    return std::string_view::npos;
  }

  static std::string_view rstrip(std::string_view s) {
    while (!s.empty() && is_jinja_space(s.back())) {
      s.remove_suffix(1);
    }
    return s;
  }

  static std::string_view after_tag(std::string_view s, bool lstrip, bool trim) {
    if (lstrip) {
      while (!s.empty() && is_jinja_space(s.front())) {
        s.remove_prefix(1);
      }
    } else if (trim) {
      if (s.substr(0, 2) == "\r\n") {
        s.remove_prefix(2);
      } else if (!s.empty() && s.front() == '\n') {
        s.remove_prefix(1);
      }
    }
    return s;
  }

  void text(std::string_view s) {
    if (!s.empty()) {
      m_tokens.push_back(Token{Tok::Text, std::string(s), pos()});
    }
  }

  // The inside of `{{ }}` or `{% %}` up to and including its end; returns
  // the end's modifier ('-', '+' or 0).
  char tag(bool var, Pos open) {
    const std::string_view close = var ? "}}" : "%}";
    const std::string_view other = var ? "%}" : "}}";
    while (true) {
      while (m_i < m_s.size() && is_jinja_space(m_s[m_i])) {
        advance_to(m_i + 1);
      }
      if (m_i >= m_s.size()) {
        fail(open, var ? "unterminated '{{', expected '}}'" : "unterminated '{%', expected '%}'");
      }
      Pos p = pos();
      char c = m_s[m_i];
      if ((c == '-' || c == '+') && at(m_i + 1, close)) {
        m_tokens.push_back(Token{var ? Tok::VarEnd : Tok::BlockEnd, "", p});
        advance_to(m_i + 3);
        return c;
      }
      if (at(m_i, close)) {
        m_tokens.push_back(Token{var ? Tok::VarEnd : Tok::BlockEnd, "", p});
        advance_to(m_i + 2);
        return 0;
      }
      if (at(m_i, other)) {
        fail(p, "unexpected '" + std::string(other) + "', expected '" + std::string(close) + "'");
      }
      if (is_alpha(c)) {
        std::size_t k = m_i;
        while (k < m_s.size() && (is_alpha(m_s[k]) || is_digit(m_s[k]))) {
          ++k;
        }
        m_tokens.push_back(Token{Tok::Name, std::string(m_s.substr(m_i, k - m_i)), p});
        advance_to(k);
      } else if (is_digit(c) || (c == '-' && m_i + 1 < m_s.size() && is_digit(m_s[m_i + 1]))) {
        number(p);
      } else if (c == '"' || c == '\'') {
        string(p, c);
      } else {
        static constexpr std::string_view two[] = {"==", "!=", "<=", ">="};
        std::size_t len = 0;
        for (auto op : two) {
          if (at(m_i, op)) {
            len = 2;
          }
        }
        if (len == 0 && std::string_view("<>|.,()[]~+=:").find(c) != std::string_view::npos) {
          len = 1;
        }
        if (len == 0) {
          fail(p, "unexpected character '" + std::string(1, c) + "', expected an expression or '" +
                      std::string(close) + "'");
        }
        m_tokens.push_back(Token{Tok::Op, std::string(m_s.substr(m_i, len)), p});
        advance_to(m_i + len);
      }
    }
  }

  void number(Pos p) {
    std::size_t k = m_i + (m_s[m_i] == '-' ? 1 : 0);
    bool is_float = false;
    while (k < m_s.size() && is_digit(m_s[k])) {
      ++k;
    }
    if (k + 1 < m_s.size() && m_s[k] == '.' && is_digit(m_s[k + 1])) {
      is_float = true;
      ++k;
      while (k < m_s.size() && is_digit(m_s[k])) {
        ++k;
      }
    }
    if (k < m_s.size() && (m_s[k] == 'e' || m_s[k] == 'E')) {
      std::size_t e = k + 1;
      if (e < m_s.size() && (m_s[e] == '+' || m_s[e] == '-')) {
        ++e;
      }
      if (e < m_s.size() && is_digit(m_s[e])) {
        is_float = true;
        k = e;
        while (k < m_s.size() && is_digit(m_s[k])) {
          ++k;
        }
      }
    }
    std::string text(m_s.substr(m_i, k - m_i));
    Token t{is_float ? Tok::Float : Tok::Int, text, p};
    const char* b = text.data();
    const char* e = text.data() + text.size();
    bool ok = false;
    if (is_float) {
      ok = parse_double(text, t.f);
    } else {
      auto r = std::from_chars(b, e, t.i);
      ok = r.ec == std::errc() && r.ptr == e;
    }
    if (!ok) {
      fail(p, "number '" + text + "' out of range, expected a 64-bit integer or a double");
    }
    m_tokens.push_back(std::move(t));
    advance_to(k);
  }

  void string(Pos p, char quote) {
    std::string out;
    std::size_t k = m_i + 1;
    while (true) {
      if (k >= m_s.size()) {
        fail(p, std::string("unterminated string, expected a closing ") + quote);
      }
      char c = m_s[k];
      if (c == quote) {
        break;
      }
      if (c == '\\' && k + 1 < m_s.size()) {
        char n = m_s[k + 1];
        switch (n) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
          case '\'':
          case '"':
            out += n;
            break;
          default:  // as Python: an unknown escape stays as written
            out += c;
            out += n;
        }
        k += 2;
        continue;
      }
      out += c;
      ++k;
    }
    m_tokens.push_back(Token{Tok::String, std::move(out), p});
    advance_to(k + 1);
  }

  // `{% raw %}` just lexed as its last three tokens?
  bool is_raw() const {
    std::size_t n = m_tokens.size();
    return n >= 3 && m_tokens[n - 3].kind == Tok::BlockBegin && m_tokens[n - 2].kind == Tok::Name &&
           m_tokens[n - 2].text == "raw" && m_tokens[n - 1].kind == Tok::BlockEnd;
  }

  // Everything up to `{% endraw %}` is text; returns endraw's modifier.
  char raw(Pos open, char modifier) {
    m_tokens.resize(m_tokens.size() - 3);
    for (std::size_t k = m_s.find("{%", m_i); k != std::string_view::npos;
         k = m_s.find("{%", k + 2)) {
      std::size_t q = k + 2;
      bool strip_before = q < m_s.size() && m_s[q] == '-';
      if (q < m_s.size() && (m_s[q] == '-' || m_s[q] == '+')) {
        ++q;
      }
      while (q < m_s.size() && is_jinja_space(m_s[q])) {
        ++q;
      }
      if (!at(q, "endraw")) {
        continue;
      }
      q += 6;
      while (q < m_s.size() && is_jinja_space(m_s[q])) {
        ++q;
      }
      char end_modifier = 0;
      if (q < m_s.size() && (m_s[q] == '-' || m_s[q] == '+')) {
        end_modifier = m_s[q++];
      }
      if (!at(q, "%}")) {
        continue;
      }
      std::string_view body =
          after_tag(m_s.substr(m_i, k - m_i), modifier == '-', modifier != '+' && modifier != '-');
      text(strip_before ? rstrip(body) : body);
      advance_to(q + 2);
      return end_modifier;
    }
    fail(open, "unclosed '{% raw %}', expected '{% endraw %}'");
  }

  std::string_view m_s;
  std::size_t m_i = 0;
  int m_line;
  std::size_t m_line_start = 0;
  std::vector<Token> m_tokens;
};

// ------------------------------------------------------------------ AST --

enum class E {
  Literal,
  Name,
  Attr,
  Item,
  List,
  Filter,
  Test,
  Not,
  And,
  Or,
  Compare,
  Concat,
  Add,
  Cond
};

struct Expr {
  E kind;
  Pos pos;
  std::string name;  // Name, Attr, Filter, Test
  json value;        // Literal
  std::vector<std::unique_ptr<Expr>> kids;
  std::vector<std::string> ops;  // Compare
  std::vector<Pos> op_pos;       // Compare, Add, Concat
  bool negate = false;           // Test
  int height = 1;
};
using ExprPtr = std::unique_ptr<Expr>;

enum class N { Text, Output, If, For };

struct Node;
using Body = std::vector<Node>;

struct Branch {
  ExprPtr cond;
  std::vector<Node> body;
};

struct Node {
  N kind;
  Pos pos;
  std::string text;              // Text; For: the loop variable
  ExprPtr expr;                  // Output; For: the sequence
  std::vector<Branch> branches;  // If
  std::vector<Node> body;        // For
  std::vector<Node> else_body;   // If, For
};

const std::vector<std::string_view> kFilters = {"default", "d",    "lower",  "upper", "replace",
                                                "trim",    "join", "length", "count", "string"};

std::string filter_list() {
  std::string s;
  for (std::size_t i = 0; i < kFilters.size(); ++i) {
    s += (i == 0 ? "" : i + 1 == kFilters.size() ? " or " : ", ") + std::string(kFilters[i]);
  }
  return s;
}

// Arguments each filter takes: {min, max}.
std::pair<std::size_t, std::size_t> filter_arity(std::string_view name) {
  if (name == "default" || name == "d") {
    return {0, 2};
  }
  if (name == "replace") {
    return {2, 3};
  }
  if (name == "join") {
    return {0, 1};
  }
  return {0, 0};
}

constexpr const char* kTags = "if, elif, else, endif, for, endfor or raw";

// --------------------------------------------------------------- parser --

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : m_t(std::move(tokens)) {}

  Body parse() {
    Body body;
    parse_body(body, {}, nullptr);
    return body;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return m_t[std::min(m_i + ahead, m_t.size() - 1)];
  }
  const Token& next() {
    const Token& t = peek();
    if (m_i < m_t.size() - 1) {
      ++m_i;
    }
    return t;
  }
  bool is_name(const Token& t, std::string_view s) const {
    return t.kind == Tok::Name && t.text == s;
  }
  bool is_op(const Token& t, std::string_view s) const { return t.kind == Tok::Op && t.text == s; }

  void expect_op(std::string_view op, std::string_view context) {
    const Token& t = next();
    if (!is_op(t, op)) {
      fail(t.pos, "unexpected " + describe(t) + ", expected '" + std::string(op) + "'" +
                      std::string(context));
    }
  }
  void expect_block_end(std::string_view tag) {
    const Token& t = next();
    if (t.kind != Tok::BlockEnd) {
      fail(t.pos,
           "unexpected " + describe(t) + ", expected '%}' to end '{% " + std::string(tag) + " %}'");
    }
  }

  // Parser recursion, bounded whatever the input: blocks inside blocks, and
  // expressions inside expressions, each to kTemplateMaxDepth.
  struct Guard {
    Guard(int& depth, Pos pos) : m_depth(depth) {
      if (++m_depth > kTemplateMaxDepth) {
        fail_depth(pos);
      }
    }
    ~Guard() { --m_depth; }
    int& m_depth;
  };

  ExprPtr make(E kind, Pos pos, std::vector<ExprPtr> kids = {}) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    for (const auto& k : kids) {
      e->height = std::max(e->height, k->height + 1);
    }
    if (e->height > kTemplateMaxDepth) {
      fail_depth(pos);
    }
    e->kids = std::move(kids);
    return e;
  }
  // Grows a chain node (And, Or, Concat, ...) by one operand.
  ExprPtr binary(E kind, ExprPtr left, ExprPtr right, Pos op) {
    std::vector<ExprPtr> kids;
    Pos pos = left->pos;
    kids.push_back(std::move(left));
    kids.push_back(std::move(right));
    auto e = make(kind, pos, std::move(kids));
    e->op_pos.push_back(op);
    return e;
  }

  // Parses nodes into `out` until one of `stops` (a block tag name) or the
  // end; returns the stop tag's name with the parser on its `{%`.
  std::string parse_body(Body& out, std::vector<std::string_view> stops, const Node* opener,
                         std::string_view opener_tag = "") {
    while (true) {
      const Token& t = peek();
      if (t.kind == Tok::Eof) {
        if (opener != nullptr) {
          fail(opener->pos, "unclosed '{% " + std::string(opener_tag) + " %}', expected '{% " +
                                std::string(stops.back()) + " %}' before the end of the template");
        }
        return "";
      }
      if (t.kind == Tok::Text) {
        Node n{N::Text, t.pos};
        n.text = t.text;
        out.push_back(std::move(n));
        next();
        continue;
      }
      if (t.kind == Tok::VarBegin) {
        Node n{N::Output, t.pos};
        next();
        n.expr = parse_expr();
        const Token& end = next();
        if (end.kind != Tok::VarEnd) {
          fail(end.pos, "unexpected " + describe(end) + ", expected '}}'");
        }
        out.push_back(std::move(n));
        continue;
      }
      if (t.kind != Tok::BlockBegin) {
        fail(t.pos, "unexpected " + describe(t) + ", expected text, '{{' or '{%'");
      }
      const Token& name = peek(1);
      if (name.kind != Tok::Name) {
        fail(name.pos, "unexpected " + describe(name) + ", expected a tag name (" + kTags + ")");
      }
      if (std::find(stops.begin(), stops.end(), name.text) != stops.end()) {
        return name.text;
      }
      Pos at = t.pos;
      next();
      next();
      if (name.text == "if") {
        out.push_back(parse_if(at));
      } else if (name.text == "for") {
        out.push_back(parse_for(at));
      } else if (name.text == "elif" || name.text == "else" || name.text == "endif" ||
                 name.text == "endfor" || name.text == "endraw") {
        std::string expected = opener == nullptr
                                   ? std::string("no '{% ") + name.text + " %}' outside a block"
                                   : "'{% " + std::string(stops.back()) + " %}' to close '{% " +
                                         std::string(opener_tag) + " %}' of line " +
                                         std::to_string(opener->pos.line);
        fail(name.pos, "unexpected '{% " + name.text + " %}', expected " + expected);
      } else {
        static const std::vector<std::string_view> unsupported = {
            "set",    "macro", "include", "import", "from",     "extends",    "block", "call",
            "filter", "with",  "do",      "break",  "continue", "autoescape", "trans"};
        bool known =
            std::find(unsupported.begin(), unsupported.end(), name.text) != unsupported.end();
        fail(name.pos, (known ? "'{% " + name.text + " %}' is not in amiboot's Jinja subset"
                              : "unknown tag '" + name.text + "'") +
                           ", expected " + kTags);
      }
    }
  }

  Node parse_if(Pos at) {
    Guard g(m_blocks, at);
    Node n{N::If, at};
    ExprPtr cond = parse_expr();
    expect_block_end("if");
    while (true) {
      Branch b{std::move(cond), {}};
      std::string stop = parse_body(b.body, {"elif", "else", "endif"}, &n, "if");
      n.branches.push_back(std::move(b));
      next();  // {%
      next();  // the tag
      if (stop == "elif") {
        cond = parse_expr();
        expect_block_end("elif");
        continue;
      }
      expect_block_end(stop);
      if (stop == "else") {
        parse_body(n.else_body, {"endif"}, &n, "if");
        next();
        next();
        expect_block_end("endif");
      }
      return n;
    }
  }

  Node parse_for(Pos at) {
    Guard g(m_blocks, at);
    Node n{N::For, at};
    const Token& var = next();
    if (var.kind != Tok::Name) {
      fail(var.pos, "unexpected " + describe(var) + ", expected a loop variable name");
    }
    n.text = var.text;
    if (is_op(peek(), ",")) {
      fail(peek().pos,
           "unexpected ',', expected one loop variable ('for a, b in' is not in "
           "amiboot's Jinja subset)");
    }
    const Token& in = next();
    if (!is_name(in, "in")) {
      fail(in.pos, "unexpected " + describe(in) + ", expected 'in'");
    }
    n.expr = parse_or();
    if (is_name(peek(), "if") || is_name(peek(), "recursive")) {
      fail(peek().pos, "unexpected '" + peek().text +
                           "', expected '%}' (loop filters are not in "
                           "amiboot's Jinja subset)");
    }
    expect_block_end("for");
    std::string stop = parse_body(n.body, {"else", "endfor"}, &n, "for");
    next();
    next();
    expect_block_end(stop);
    if (stop == "else") {
      parse_body(n.else_body, {"endfor"}, &n, "for");
      next();
      next();
      expect_block_end("endfor");
    }
    return n;
  }

  // expr := or ['if' or ['else' expr]]
  ExprPtr parse_expr() {
    Guard g(m_nest, peek().pos);
    ExprPtr value = parse_or();
    if (!is_name(peek(), "if")) {
      return value;
    }
    next();
    ExprPtr cond = parse_or();
    ExprPtr otherwise;
    if (is_name(peek(), "else")) {
      next();
      otherwise = parse_expr();
    } else {
      otherwise = make(E::Literal, cond->pos);
      otherwise->value = "";
    }
    std::vector<ExprPtr> kids;
    Pos pos = value->pos;
    kids.push_back(std::move(cond));
    kids.push_back(std::move(value));
    kids.push_back(std::move(otherwise));
    return make(E::Cond, pos, std::move(kids));
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name(peek(), "or")) {
      Pos op = next().pos;
      left = binary(E::Or, std::move(left), parse_and(), op);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name(peek(), "and")) {
      Pos op = next().pos;
      left = binary(E::And, std::move(left), parse_not(), op);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (!is_name(peek(), "not")) {
      return parse_compare();
    }
    Pos at = next().pos;
    Guard g(m_nest, at);
    std::vector<ExprPtr> kids;
    kids.push_back(parse_not());
    return make(E::Not, at, std::move(kids));
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_concat();
    std::vector<ExprPtr> kids;
    std::vector<std::string> ops;
    std::vector<Pos> op_pos;
    while (true) {
      const Token& t = peek();
      std::string op;
      if (t.kind == Tok::Op && (t.text == "==" || t.text == "!=" || t.text == "<" ||
                                t.text == "<=" || t.text == ">" || t.text == ">=")) {
        op = t.text;
        next();
      } else if (is_name(t, "in")) {
        op = "in";
        next();
      } else if (is_name(t, "not") && is_name(peek(1), "in")) {
        op = "not in";
        next();
        next();
      } else {
        break;
      }
      if (kids.empty()) {
        kids.push_back(std::move(first));
      }
      ops.push_back(op);
      op_pos.push_back(t.pos);
      kids.push_back(parse_concat());
    }
    if (kids.empty()) {
      return first;
    }
    Pos pos = kids.front()->pos;
    auto e = make(E::Compare, pos, std::move(kids));
    e->ops = std::move(ops);
    e->op_pos = std::move(op_pos);
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_add();
    while (is_op(peek(), "~")) {
      Pos op = next().pos;
      left = binary(E::Concat, std::move(left), parse_add(), op);
    }
    return left;
  }

  ExprPtr parse_add() {
    ExprPtr left = parse_postfix();
    while (is_op(peek(), "+")) {
      Pos op = next().pos;
      left = binary(E::Add, std::move(left), parse_postfix(), op);
    }
    return left;
  }

  ExprPtr parse_postfix() {
    ExprPtr e = parse_primary();
    while (true) {
      const Token& t = peek();
      if (is_op(t, ".")) {
        next();
        const Token& attr = next();
        if (attr.kind != Tok::Name && attr.kind != Tok::Int) {
          fail(attr.pos, "unexpected " + describe(attr) + ", expected an attribute name after '.'");
        }
        std::vector<ExprPtr> kids;
        kids.push_back(std::move(e));
        e = make(E::Attr, attr.pos, std::move(kids));
        e->name = attr.text;
      } else if (is_op(t, "[")) {
        Pos at = next().pos;
        std::vector<ExprPtr> kids;
        kids.push_back(std::move(e));
        kids.push_back(parse_expr());
        if (is_op(peek(), ":")) {
          fail(peek().pos,
               "unexpected ':', expected ']' (slices are not in amiboot's Jinja subset)");
        }
        expect_op("]", "");
        e = make(E::Item, at, std::move(kids));
      } else if (is_op(t, "(")) {
        fail(t.pos,
             "unexpected '(', expected a filter such as '| lower' (calls are not in "
             "amiboot's Jinja subset)");
      } else if (is_op(t, "|")) {
        next();
        e = parse_filter(std::move(e));
      } else if (is_name(t, "is")) {
        next();
        bool negate = false;
        if (is_name(peek(), "not")) {
          next();
          negate = true;
        }
        const Token& test = next();
        if (!(is_name(test, "defined") || is_name(test, "undefined") || is_name(test, "none"))) {
          fail(test.pos,
               "unknown test " + describe(test) + ", expected defined, undefined or none");
        }
        std::vector<ExprPtr> kids;
        kids.push_back(std::move(e));
        e = make(E::Test, test.pos, std::move(kids));
        e->name = test.text;
        e->negate = negate;
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter(ExprPtr value) {
    const Token& name = next();
    if (name.kind != Tok::Name) {
      fail(name.pos, "unexpected " + describe(name) + ", expected a filter name after '|'");
    }
    if (std::find(kFilters.begin(), kFilters.end(), name.text) == kFilters.end()) {
      fail(name.pos, "unknown filter '" + name.text + "', expected " + filter_list());
    }
    std::vector<ExprPtr> kids;
    kids.push_back(std::move(value));
    if (is_op(peek(), "(")) {
      next();
      while (!is_op(peek(), ")")) {
        if (peek().kind == Tok::Name && is_op(peek(1), "=")) {
          const Token& kw = peek();
          bool is_default = name.text == "default" || name.text == "d";
          if (!(is_default && kw.text == "boolean" && kids.size() <= 2)) {
            fail(kw.pos, "unexpected keyword argument '" + kw.text + "', expected " +
                             (is_default ? "boolean=" : "positional arguments"));
          }
          next();
          next();
          if (kids.size() == 1) {  // default(boolean=true): the value is ''
            auto empty = make(E::Literal, kw.pos);
            empty->value = "";
            kids.push_back(std::move(empty));
          }
        }
        kids.push_back(parse_expr());
        if (!is_op(peek(), ",")) {
          break;
        }
        next();
      }
      expect_op(")", " to close the arguments of '" + name.text + "'");
    }
    auto [min, max] = filter_arity(name.text);
    std::size_t args = kids.size() - 1;
    if (args < min || args > max) {
      fail(name.pos, "filter '" + name.text + "' given " + std::to_string(args) +
                         " argument(s), expected " +
                         (min == max ? std::to_string(min)
                                     : std::to_string(min) + " to " + std::to_string(max)));
    }
    auto e = make(E::Filter, name.pos, std::move(kids));
    e->name = name.text;
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = next();
    switch (t.kind) {
      case Tok::Name: {
        auto lit = [&](json v) {
          auto e = make(E::Literal, t.pos);
          e->value = std::move(v);
          return e;
        };
        if (t.text == "true" || t.text == "True") {
          return lit(true);
        }
        if (t.text == "false" || t.text == "False") {
          return lit(false);
        }
        if (t.text == "none" || t.text == "None") {
          return lit(nullptr);
        }
        for (std::string_view kw : {"and", "or", "in", "is", "if", "else", "not"}) {
          if (t.text == kw) {
            fail(t.pos, "unexpected " + describe(t) + ", expected an expression");
          }
        }
        auto e = make(E::Name, t.pos);
        e->name = t.text;
        return e;
      }
      case Tok::String: {
        auto e = make(E::Literal, t.pos);
        e->value = t.text;
        return e;
      }
      case Tok::Int: {
        auto e = make(E::Literal, t.pos);
        e->value = t.i;
        return e;
      }
      case Tok::Float: {
        auto e = make(E::Literal, t.pos);
        e->value = t.f;
        return e;
      }
      case Tok::Op:
        if (t.text == "(" || t.text == "[") {
          bool list = t.text == "[";
          std::string close = list ? "]" : ")";
          std::vector<ExprPtr> items;
          bool tuple = list;
          while (!is_op(peek(), close)) {
            items.push_back(parse_expr());
            if (!is_op(peek(), ",")) {
              break;
            }
            next();
            tuple = true;
          }
          expect_op(close, "");
          if (!tuple && items.size() == 1) {
            return std::move(items.front());  // parentheses
          }
          return make(E::List, t.pos, std::move(items));
        }
        break;
      default:
        break;
    }
    fail(t.pos, "unexpected " + describe(t) + ", expected an expression");
  }

  std::vector<Token> m_t;
  std::size_t m_i = 0;
  int m_nest = 0;
  int m_blocks = 0;
};

// ---------------------------------------------------------- formatting --

std::string py_float(double d) {
  if (std::isnan(d)) {
    return "nan";
  }
  if (std::isinf(d)) {
    return d < 0 ? "-inf" : "inf";
  }
  // The shortest "%.Ne" that reads back as d (Python's repr): "-1.5e+00".
  // snprintf and strtod, not std::to_chars: libstdc++'s floating to_chars
  // makes the binary need libm (a few hundred KiB in every command's RSS).
  char buf[64];
  for (int precision = 0; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision, d);
    if (std::strtod(buf, nullptr) == d) {
      break;
    }
  }
  std::string s(buf);
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  std::size_t e = s.find('e');
  int exp = std::stoi(s.substr(e + 1));
  std::string digits = s.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  if (exp >= -4 && exp < 16) {
    std::string out;
    if (exp < 0) {
      out = "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    } else {
      std::size_t int_len = static_cast<std::size_t>(exp) + 1;
      if (digits.size() < int_len) {
        digits.append(int_len - digits.size(), '0');
      }
      std::string frac = digits.substr(int_len);
      out = digits.substr(0, int_len) + "." + (frac.empty() ? "0" : frac);
    }
    return sign + out;
  }
  std::string mantissa = digits.substr(0, 1);
  if (digits.size() > 1) {
    mantissa += "." + digits.substr(1);
  }
  std::string e_digits = std::to_string(exp < 0 ? -exp : exp);
  if (e_digits.size() < 2) {
    e_digits = "0" + e_digits;
  }
  return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + e_digits;
}

std::string py_repr_string(const std::string& s) {
  char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

void to_text(const json& v, bool repr, std::string& out, int depth, Pos pos) {
  if (depth > kTemplateMaxDepth) {
    fail_depth(pos);
  }
  switch (v.type()) {
    case json::value_t::string:
      out +=
          repr ? py_repr_string(v.get_ref<const std::string&>()) : v.get_ref<const std::string&>();
      return;
    case json::value_t::boolean:
      out += v.get<bool>() ? "True" : "False";
      return;
    case json::value_t::null:
    case json::value_t::discarded:
      out += "None";
      return;
    case json::value_t::number_integer:
      out += std::to_string(v.get<std::int64_t>());
      return;
    case json::value_t::number_unsigned:
      out += std::to_string(v.get<std::uint64_t>());
      return;
    case json::value_t::number_float:
      out += py_float(v.get<double>());
      return;
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        out += first ? "" : ", ";
        first = false;
        to_text(item, true, out, depth + 1, pos);
        if (out.size() > kTemplateMaxOutput) {
          return;
        }
      }
      out += ']';
      return;
    }
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        out += first ? "" : ", ";
        first = false;
        out += py_repr_string(k);
        out += ": ";
        to_text(item, true, out, depth + 1, pos);
        if (out.size() > kTemplateMaxOutput) {
          return;
        }
      }
      out += '}';
      return;
    }
    case json::value_t::binary:
      out += "b''";
      return;
  }
}

const char* type_word(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "none";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "a map";
    default:
      return "a value";
  }
}

// -------------------------------------------------------------- renderer --

// A value: a reference into the context (or a loop frame), or one of its own.
struct Val {
  const json* ref = nullptr;
  json own;
  bool defined = true;
  std::string path;  // how the template named it: "v1.region"
  Pos pos;           // where an undefined one went missing
  std::string hint;  // for an undefined one: what was there instead

  const json& get() const { return ref != nullptr ? *ref : own; }
};

Val owned(json v) {
  Val out;
  out.own = std::move(v);
  return out;
}

std::string key_list(const json& obj) {
  std::string s;
  int n = 0;
  for (const auto& [k, v] : obj.items()) {
    if (n == 12) {
      s += ", ...";
      break;
    }
    s += (n++ == 0 ? "" : ", ") + k;
  }
  return s;
}

class Renderer {
 public:
  explicit Renderer(const json& context) : m_context(context) {}

  std::string render(const Body& body) {
    render_body(body);
    return std::move(m_out);
  }

 private:
  struct Frame {
    std::string name;
    const json* value = nullptr;
    json own;                 // the loop object, built when the template asks for it
    std::int64_t index = -1;  // a loop frame: the iteration, and how many
    std::int64_t length = 0;
  };

  void step(Pos pos) {
    if (++m_steps > kTemplateMaxSteps) {
      fail(pos, "more than " + std::to_string(kTemplateMaxSteps) +
                    " evaluation steps, expected at most that many (the template step limit)");
    }
  }

  void emit(std::string_view s, Pos pos) {
    m_out += s;
    check_size(m_out.size(), pos);
  }
  static void check_size(std::size_t size, Pos pos) {
    if (size > kTemplateMaxOutput) {
      fail(pos, "output larger than 16 MiB, expected at most " +
                    std::to_string(kTemplateMaxOutput) + " bytes (the template output limit)");
    }
  }

  std::string str(const json& v, Pos pos) {
    std::string s;
    to_text(v, false, s, 0, pos);
    check_size(s.size(), pos);
    return s;
  }

  const json& need(const Val& v) const {
    if (!v.defined) {
      fail(v.pos, "undefined '" + v.path + "', expected " + v.hint + " or '| default(...)'");
    }
    return v.get();
  }

  static bool truthy(const json& v) {
    switch (v.type()) {
      case json::value_t::boolean:
        return v.get<bool>();
      case json::value_t::null:
        return false;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
        return v.get<std::int64_t>() != 0;
      case json::value_t::number_float:
        return v.get<double>() != 0;
      case json::value_t::string:  // json::empty() is false for any string
        return !v.get_ref<const std::string&>().empty();
      case json::value_t::array:
      case json::value_t::object:
        return !v.empty();
      default:
        return true;
    }
  }

  void render_body(const Body& body) {
    for (const Node& n : body) {
      step(n.pos);
      switch (n.kind) {
        case N::Text:
          emit(n.text, n.pos);
          break;
        case N::Output: {
          Val v = eval(*n.expr);
          const json& j = need(v);
          if (j.is_string()) {
            emit(j.get_ref<const std::string&>(), n.pos);
          } else {
            to_text(j, false, m_out, 0, n.pos);
            check_size(m_out.size(), n.pos);
          }
          break;
        }
        case N::If:
          render_if(n);
          break;
        case N::For:
          render_for(n);
          break;
      }
    }
  }

  void render_if(const Node& n) {
    for (const Branch& b : n.branches) {
      if (truthy(need(eval(*b.cond)))) {
        render_body(b.body);
        return;
      }
    }
    render_body(n.else_body);
  }

  void render_for(const Node& n) {
    Val seq = eval(*n.expr);
    const json& j = need(seq);
    std::vector<const json*> items;
    std::vector<json> keys;
    if (j.is_array()) {
      for (const auto& item : j) {
        items.push_back(&item);
      }
    } else if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        keys.emplace_back(k);
      }
      for (const auto& k : keys) {
        items.push_back(&k);
      }
    } else {
      fail(n.expr->pos, "cannot loop over " + std::string(type_word(j)) +
                            (seq.path.empty() ? "" : " ('" + seq.path + "')") +
                            ", expected a list or a map");
    }
    if (items.empty()) {
      render_body(n.else_body);
      return;
    }
    const auto count = static_cast<std::int64_t>(items.size());
    m_frames.push_back(Frame{"loop", nullptr, nullptr, 0, count});
    Frame& loop = m_frames.back();
    m_frames.push_back(Frame{n.text, nullptr, nullptr});
    Frame& var = m_frames.back();
    for (std::int64_t i = 0; i < count; ++i) {
      step(n.pos);
      var.value = items[static_cast<std::size_t>(i)];
      loop.index = i;
      loop.value = nullptr;  // stale: lookup() rebuilds it
      render_body(n.body);
    }
    m_frames.pop_back();
    m_frames.pop_back();
  }

  Val lookup(const Expr& e) {
    for (auto it = m_frames.rbegin(); it != m_frames.rend(); ++it) {
      if (it->name == e.name) {
        if (it->value == nullptr && it->index >= 0) {
          const std::int64_t i = it->index;
          const std::int64_t count = it->length;
          it->own = {{"index", i + 1},        {"index0", i},
                     {"revindex", count - i}, {"revindex0", count - i - 1},
                     {"first", i == 0},       {"last", i + 1 == count},
                     {"length", count}};
          it->value = &it->own;
        }
        Val v;
        v.ref = it->value;
        v.path = e.name;
        return v;
      }
    }
    Val v;
    v.path = e.name;
    if (m_context.is_object()) {
      if (auto it = m_context.find(e.name); it != m_context.end()) {
        v.ref = &*it;
        return v;
      }
    }
    v.defined = false;
    v.pos = e.pos;
    v.hint = m_context.is_object() && !m_context.empty()
                 ? "a top-level name (" + key_list(m_context) + ")"
                 : "a defined name";
    return v;
  }

  // base[key] or base.key; `label` is how the path shows it.
  Val member(Val base, const json& key, const std::string& label, Pos pos) {
    if (!base.defined) {
      return base;  // stays undefined, naming the first missing part
    }
    const json& b = base.get();
    std::string path = base.path + label;
    const json* found = nullptr;
    if (b.is_object() && key.is_string()) {
      if (auto it = b.find(key.get_ref<const std::string&>()); it != b.end()) {
        found = &*it;
      }
    } else if ((b.is_array() || b.is_string()) && key.is_number_integer()) {
      auto size = static_cast<std::int64_t>(b.size());
      if (b.is_string()) {
        size = static_cast<std::int64_t>(b.get_ref<const std::string&>().size());
      }
      std::int64_t i = key.get<std::int64_t>();
      if (i < 0) {
        i += size;
      }
      if (i >= 0 && i < size) {
        if (b.is_string()) {
          Val v =
              owned(std::string(1, b.get_ref<const std::string&>()[static_cast<std::size_t>(i)]));
          v.path = path;
          return v;
        }
        found = &b[static_cast<std::size_t>(i)];
      }
    }
    Val v;
    v.path = path;
    if (found != nullptr) {
      if (base.ref != nullptr) {
        v.ref = found;
      } else {
        v.own = *found;
      }
      return v;
    }
    v.defined = false;
    v.pos = pos;
    std::string parent = base.path.empty() ? "the value" : base.path;
    if (b.is_object()) {
      v.hint = b.empty() ? "a key of " + parent + " (it is empty)"
                         : "a key of " + parent + " (" + key_list(b) + ")";
    } else if (b.is_array()) {
      v.hint = key.is_number_integer()
                   ? "an index below " + std::to_string(b.size()) + " for " + parent
                   : "an integer index into " + parent + " (a list)";
    } else {
      v.hint = "a map or list at " + parent + ", not " + type_word(b);
    }
    return v;
  }

  Val eval(const Expr& e) {
    step(e.pos);
    switch (e.kind) {
      case E::Literal:
        return owned(e.value);
      case E::Name:
        return lookup(e);
      case E::Attr: {
        json key = e.name;
        if (!e.name.empty() && std::all_of(e.name.begin(), e.name.end(), is_digit)) {
          Val base = eval(*e.kids[0]);
          if (base.defined && base.get().is_array()) {
            key = std::stoll(e.name);
          }
          return member(std::move(base), key, "." + e.name, e.pos);
        }
        return member(eval(*e.kids[0]), key, "." + e.name, e.pos);
      }
      case E::Item: {
        Val base = eval(*e.kids[0]);
        Val key = eval(*e.kids[1]);
        const json& k = need(key);
        std::string label =
            "[" + (k.is_string() ? py_repr_string(k.get<std::string>()) : str(k, e.pos)) + "]";
        json copy = k;
        return member(std::move(base), copy, label, e.pos);
      }
      case E::List: {
        json out = json::array();
        for (const auto& k : e.kids) {
          out.push_back(need(eval(*k)));
        }
        return owned(std::move(out));
      }
      case E::Filter:
        return filter(e);
      case E::Test: {
        Val v = eval(*e.kids[0]);
        bool r = e.name == "defined"     ? v.defined
                 : e.name == "undefined" ? !v.defined
                                         : v.defined && v.get().is_null();
        return owned(r != e.negate);
      }
      case E::Not:
        return owned(!truthy(need(eval(*e.kids[0]))));
      case E::And:
      case E::Or: {
        Val left = eval(*e.kids[0]);
        bool t = truthy(need(left));
        if (e.kind == E::And ? !t : t) {
          return left;
        }
        Val right = eval(*e.kids[1]);
        need(right);
        return right;
      }
      case E::Cond:
        return truthy(need(eval(*e.kids[0]))) ? eval(*e.kids[1]) : eval(*e.kids[2]);
      case E::Concat: {
        std::string s = str(need(eval(*e.kids[0])), e.pos);
        s += str(need(eval(*e.kids[1])), e.pos);
        check_size(s.size(), e.op_pos[0]);
        return owned(std::move(s));
      }
      case E::Add:
        return add(e);
      case E::Compare:
        return compare(e);
    }
    fail(e.pos, "unknown expression");
  }

  Val add(const Expr& e) {
    Val lv = eval(*e.kids[0]);
    Val rv = eval(*e.kids[1]);
    const json& l = need(lv);
    const json& r = need(rv);
    bool ln = l.is_number() && !l.is_boolean();
    bool rn = r.is_number() && !r.is_boolean();
    if (ln && rn) {
      if (l.is_number_integer() && r.is_number_integer()) {
        std::int64_t out = 0;
        if (!__builtin_add_overflow(l.get<std::int64_t>(), r.get<std::int64_t>(), &out)) {
          return owned(out);
        }
      }
      return owned(l.get<double>() + r.get<double>());
    }
    if (l.is_string() && r.is_string()) {
      check_size(l.get_ref<const std::string&>().size() + r.get_ref<const std::string&>().size(),
                 e.op_pos[0]);
      return owned(l.get<std::string>() + r.get<std::string>());
    }
    if (l.is_array() && r.is_array()) {
      json out = l;
      for (const auto& item : r) {
        out.push_back(item);
      }
      return owned(std::move(out));
    }
    fail(e.op_pos[0], std::string("cannot add ") + type_word(r) + " to " + type_word(l) +
                          ", expected two numbers, two strings or two lists (or '~' to join as "
                          "text)");
  }

  bool compare_one(const json& l, const std::string& op, const json& r, Pos pos) {
    if (op == "==" || op == "!=") {
      bool eq = l == r;
      return op == "==" ? eq : !eq;
    }
    if (op == "in" || op == "not in") {
      bool found = false;
      if (r.is_string()) {
        if (!l.is_string()) {
          fail(pos, std::string("'") + op + " <string>' given " + type_word(l) +
                        " on the left, expected a string");
        }
        found = r.get_ref<const std::string&>().find(l.get_ref<const std::string&>()) !=
                std::string::npos;
      } else if (r.is_array()) {
        found = std::find(r.begin(), r.end(), l) != r.end();
      } else if (r.is_object()) {
        found = l.is_string() && r.contains(l.get_ref<const std::string&>());
      } else {
        fail(pos, std::string("'") + op + "' given " + type_word(r) +
                      " on the right, expected a list, a map or a string");
      }
      return op == "in" ? found : !found;
    }
    int c = 0;
    bool ln = l.is_number() && !l.is_boolean();
    bool rn = r.is_number() && !r.is_boolean();
    if (ln && rn) {
      if (l.is_number_integer() && r.is_number_integer()) {
        auto a = l.get<std::int64_t>();
        auto b = r.get<std::int64_t>();
        c = a < b ? -1 : a > b ? 1 : 0;
      } else {
        double a = l.get<double>();
        double b = r.get<double>();
        c = a < b ? -1 : a > b ? 1 : 0;
      }
    } else if (l.is_string() && r.is_string()) {
      c = l.get_ref<const std::string&>().compare(r.get_ref<const std::string&>());
    } else {
      fail(pos, "cannot compare " + std::string(type_word(l)) + " with " + type_word(r) +
                    " using '" + op + "', expected two numbers or two strings");
    }
    if (op == "<") {
      return c < 0;
    }
    if (op == "<=") {
      return c <= 0;
    }
    if (op == ">") {
      return c > 0;
    }
    return c >= 0;
  }

  Val compare(const Expr& e) {
    Val left = eval(*e.kids[0]);
    for (std::size_t i = 0; i < e.ops.size(); ++i) {
      Val right = eval(*e.kids[i + 1]);
      if (!compare_one(need(left), e.ops[i], need(right), e.op_pos[i])) {
        return owned(false);
      }
      left = std::move(right);
    }
    return owned(true);
  }

  Val filter(const Expr& e) {
    const std::string& f = e.name;
    Val v = eval(*e.kids[0]);
    if (f == "default" || f == "d") {
      bool boolean = e.kids.size() > 2 && truthy(need(eval(*e.kids[2])));
      if (!v.defined || (boolean && !truthy(v.get()))) {
        if (e.kids.size() > 1) {
          return eval(*e.kids[1]);
        }
        return owned("");
      }
      return v;
    }
    const json& j = need(v);
    if (f == "length" || f == "count") {
      if (j.is_string()) {
        return owned(j.get_ref<const std::string&>().size());
      }
      if (j.is_array() || j.is_object()) {
        return owned(j.size());
      }
      fail(e.pos, "'" + f + "' given " + type_word(j) + ", expected a string, a list or a map");
    }
    if (f == "join") {
      if (!j.is_array()) {
        fail(e.pos, "'join' given " + std::string(type_word(j)) + ", expected a list");
      }
      std::string sep = e.kids.size() > 1 ? str(need(eval(*e.kids[1])), e.pos) : "";
      std::string out;
      bool first = true;
      for (const auto& item : j) {
        if (!first) {
          out += sep;
        }
        first = false;
        out += str(item, e.pos);
        check_size(out.size(), e.pos);
      }
      return owned(std::move(out));
    }
    std::string s = str(j, e.pos);
    if (f == "string") {
      return owned(std::move(s));
    }
    if (f == "lower" || f == "upper") {
      for (char& c : s) {
        if (f == "lower" && c >= 'A' && c <= 'Z') {
          c = static_cast<char>(c - 'A' + 'a');
        } else if (f == "upper" && c >= 'a' && c <= 'z') {
          c = static_cast<char>(c - 'a' + 'A');
        }
      }
      return owned(std::move(s));
    }
    if (f == "trim") {
      std::size_t b = s.find_first_not_of(kSpace);
      if (b == std::string::npos) {
        return owned("");
      }
      std::size_t end = s.find_last_not_of(kSpace);
      return owned(s.substr(b, end - b + 1));
    }
    // replace(old, new[, count]), as Python's str.replace
    std::string from = str(need(eval(*e.kids[1])), e.pos);
    std::string to = str(need(eval(*e.kids[2])), e.pos);
    std::int64_t count = -1;
    if (e.kids.size() > 3) {
      // The value must outlive the statement: need() refers into it.
      Val count_value = eval(*e.kids[3]);
      const json& c = need(count_value);
      if (!c.is_number_integer()) {
        fail(e.kids[3]->pos,
             "replace's count is " + std::string(type_word(c)) + ", expected an integer");
      }
      count = c.get<std::int64_t>();
    }
    std::string out;
    std::size_t i = 0;
    std::int64_t done = 0;
    if (from.empty()) {
      for (; i <= s.size() && (count < 0 || done < count); ++done) {
        out += to;
        if (i < s.size()) {
          out += s[i];
        }
        ++i;
        check_size(out.size(), e.pos);
      }
      if (i < s.size()) {
        out.append(s, i, std::string::npos);
      }
    } else {
      while (count < 0 || done < count) {
        std::size_t k = s.find(from, i);
        if (k == std::string::npos) {
          break;
        }
        out.append(s, i, k - i);
        out += to;
        check_size(out.size(), e.pos);
        i = k + from.size();
        ++done;
      }
      out.append(s, i, std::string::npos);
    }
    check_size(out.size(), e.pos);
    return owned(std::move(out));
  }

  const json& m_context;
  std::deque<Frame> m_frames;
  std::string m_out;
  std::size_t m_steps = 0;
};

}  // namespace

Result<std::string> render_template(std::string_view text, const nlohmann::json& context,
                                    std::string_view source, int first_line) {
  try {
    // Jinja drops a template's final newline; cloud-init puts it back.
    bool final_newline = !text.empty() && text.back() == '\n';
    if (final_newline) {
      text.remove_suffix(1);
      if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
      }
    }
    Body body = Parser(Lexer(text, first_line).run()).parse();
    std::string out = Renderer(context).render(body);
    if (final_newline) {
      out += '\n';
    }
    return out;
  } catch (const TemplateError& e) {
    return error(std::string(source) + ":" + std::to_string(e.pos.line) + ":" +
                 std::to_string(e.pos.col) + ": " + e.message);
  } catch (const std::exception& e) {
    return error(std::string(source) + ": template: " + e.what());
  }
}

bool has_jinja_header(std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  if (line.substr(0, 2) != "##") {
    return false;
  }
  line.remove_prefix(2);
  while (!line.empty() && is_jinja_space(line.front())) {
    line.remove_prefix(1);
  }
  std::string lower;
  for (char c : line) {
    lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (lower.rfind("template:", 0) != 0) {
    return false;
  }
  std::string_view rest = std::string_view(lower).substr(9);
  while (!rest.empty() && is_jinja_space(rest.front())) {
    rest.remove_prefix(1);
  }
  while (!rest.empty() && is_jinja_space(rest.back())) {
    rest.remove_suffix(1);
  }
  return rest == "jinja";
}

Result<std::string> render_jinja_user_data(std::string_view text, const nlohmann::json& context,
                                           std::string_view source) {
  if (!has_jinja_header(text)) {
    return error(std::string(source) +
                 ":1:1: no template header, expected '## template: jinja' on the first line");
  }
  std::size_t nl = text.find('\n');
  std::string_view body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  return render_template(body, context, source, 2);
}

}  // namespace amiboot
