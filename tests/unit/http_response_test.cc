// SPDX-License-Identifier: Apache-2.0
// The plain-http IMDS client's response parser (agent/core/http_response.h):
// well-formed answers in every framing and split anywhere, and malformed or
// oversized ones refused with a reason.
#include "agent/core/http_response.h"

#include <gtest/gtest.h>

#include <string>

namespace amiboot {
namespace {

using State = HttpResponseParser::State;

HttpResponseLimits small_limits() {
  HttpResponseLimits l;
  l.max_head_bytes = 256;
  l.max_headers = 8;
  l.max_body_bytes = 64;
  return l;
}

// Feeds `text` whole, then byte by byte into a fresh parser: both must agree.
HttpResponseParser parse(const std::string& text, HttpResponseLimits limits = {},
                         bool close = false) {
  HttpResponseParser whole(limits);
  whole.feed(text);
  HttpResponseParser bytes(limits);
  for (char c : text) {
    bytes.feed(std::string_view(&c, 1));
  }
  if (close) {
    whole.finish();
    bytes.finish();
  }
  EXPECT_EQ(whole.state(), bytes.state()) << whole.error() << " / " << bytes.error();
  if (whole.state() == State::Complete) {
    EXPECT_EQ(whole.body(), bytes.body());
  }
  EXPECT_EQ(whole.status(), bytes.status());
  return whole;
}

TEST(HttpResponse, ContentLengthBodyAndKeepAlive) {
  auto p = parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(p.state(), State::Complete);
  EXPECT_EQ(p.status(), 200);
  EXPECT_EQ(p.body(), "hello");
  EXPECT_TRUE(p.keep_alive());
}

TEST(HttpResponse, ChunkedBodyWithExtensionsAndTrailers) {
  auto p = parse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=v\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n");
  EXPECT_EQ(p.state(), State::Complete) << p.error();
  EXPECT_EQ(p.body(), "helloabcdefghijklmnopqrstuvwxyz");
  EXPECT_TRUE(p.keep_alive());
}

TEST(HttpResponse, ABodyUntilCloseEndsWithTheConnection) {
  auto open = parse("HTTP/1.1 200 OK\r\n\r\npartial");
  EXPECT_EQ(open.state(), State::Incomplete);
  auto p = parse("HTTP/1.1 200 OK\r\n\r\nall of it", {}, /*close=*/true);
  EXPECT_EQ(p.state(), State::Complete);
  EXPECT_EQ(p.body(), "all of it");
  EXPECT_FALSE(p.keep_alive());
}

TEST(HttpResponse, ConnectionCloseAndHttp10DecideReuse) {
  EXPECT_FALSE(
      parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive());
  EXPECT_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive());
  EXPECT_TRUE(
      parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive());
  EXPECT_FALSE(parse("HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\nContent-Length: 0\r\n\r\n")
                   .keep_alive());
}

TEST(HttpResponse, NoBodyStatusesAndInterimAnswers) {
  auto p = parse("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n");
  EXPECT_EQ(p.state(), State::Complete);
  EXPECT_EQ(p.body(), "");
  auto q =
      parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
  EXPECT_EQ(q.state(), State::Complete);
  EXPECT_EQ(q.status(), 404);
  EXPECT_EQ(q.body(), "no");
  EXPECT_EQ(parse("HTTP/1.1 101 Switching\r\n\r\n").state(), State::Malformed);
  auto head = HttpResponseParser({}, /*no_body=*/true);
  EXPECT_EQ(head.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), State::Complete);
}

TEST(HttpResponse, MalformedStatusLinesAreRefused) {
  for (const char* text :
       {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 600 High\r\n\r\n", "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n", "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n"}) {
    SCOPED_TRACE(text);
    auto p = parse(text);
    EXPECT_EQ(p.state(), State::Malformed);
    EXPECT_FALSE(p.error().empty());
    EXPECT_FALSE(p.keep_alive());
  }
}

TEST(HttpResponse, MalformedHeadersAreRefused) {
  for (const char* head : {
           "Content-Length: 5\n",                    // LF without CR
           "Bad Name: x\r\n",                        // space in the name
           "Name : x\r\n",                           // space before the colon
           ": x\r\n",                                // no name
           "No-Colon\r\n",                           // no colon
           " folded\r\n",                            // obsolete folding
           "X: a\x01 b\r\n",                         // a control character
           "X: a\rb\r\n",                            // a bare CR
           "Content-Length: -1\r\n",                 // not a number
           "Content-Length: 5, 5\r\n",               // a list
           "Content-Length: 99999999999999999\r\n",  // too long a number
           "Content-Length: 1\r\nContent-Length: 2\r\n", "Transfer-Encoding: gzip, chunked\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",  // smuggling
       }) {
    SCOPED_TRACE(head);
    auto p = parse(std::string("HTTP/1.1 200 OK\r\n") + head + "\r\nabc");
    EXPECT_EQ(p.state(), State::Malformed);
    EXPECT_FALSE(p.error().empty());
  }
  // The same Content-Length twice is allowed (RFC 9112 6.3).
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc").state(),
            State::Complete);
}

TEST(HttpResponse, MalformedChunksAreRefused) {
  for (const char* body :
       {"z\r\nabc\r\n0\r\n\r\n", "\r\n", "3\r\nabcd\r\n0\r\n\r\n", "3\r\nabc\n0\r\n\r\n",
        "1234567890abcdef0\r\n", "0\r\nBad Trailer\r\n\r\n"}) {
    SCOPED_TRACE(body);
    auto p = parse(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + body);
    EXPECT_EQ(p.state(), State::Malformed);
  }
}

TEST(HttpResponse, LimitsOnTheHeadAndTheBody) {
  const auto limits = small_limits();
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nX: " + std::string(300, 'a') + "\r\n\r\n", limits).state(),
            State::Malformed);
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 9; ++i) {
    many += "X: 1\r\n";
  }
  EXPECT_EQ(parse(many + "\r\n", limits).state(), State::Malformed);
  // Over the cap by its declared length, before any body byte is read.
  auto declared = HttpResponseParser(limits);
  EXPECT_EQ(declared.feed("HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n"), State::TooLarge);
  EXPECT_NE(declared.error().find("64-byte cap"), std::string::npos) << declared.error();
  EXPECT_EQ(
      parse("HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n" + std::string(64, 'b'), limits).state(),
      State::Complete);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" +
                      std::string(64, 'c') + "\r\n1\r\n",
                  limits)
                .state(),
            State::TooLarge);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n\r\n" + std::string(65, 'd'), limits).state(),
            State::TooLarge);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(2000, '0'),
                  limits)
                .state(),
            State::Malformed);
}

TEST(HttpResponse, ClosedEarlyIsMalformedAndExtraBytesEndReuse) {
  auto cut = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", {}, /*close=*/true);
  EXPECT_EQ(cut.state(), State::Malformed);
  EXPECT_NE(cut.error().find("closed before the response ended"), std::string::npos);
  HttpResponseParser empty;
  EXPECT_EQ(empty.finish(), State::Malformed);
  EXPECT_FALSE(empty.started());
  auto extra = parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n");
  EXPECT_EQ(extra.state(), State::Complete);
  EXPECT_EQ(extra.body(), "ok");
  EXPECT_FALSE(extra.keep_alive());
}

}  // namespace
}  // namespace amiboot
