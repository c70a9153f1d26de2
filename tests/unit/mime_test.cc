// SPDX-License-Identifier: Apache-2.0
#include "agent/core/mime.h"

#include <gtest/gtest.h>

namespace amiboot {
namespace {

std::vector<std::string> as_strings(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

TEST(MimeBase64, DecodesRfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"Zg==", "f"},
      {"Zm8=", "fo"},
      {"Zm9v", "foo"},
      {"Zm9vYg==", "foob"},
      {"Zm9vYmE=", "fooba"},
      {"Zm9vYmFy", "foobar"},
  };
  for (const auto& [encoded, decoded] : vectors) {
    Result<std::string> result = base64_decode(encoded);
    ASSERT_TRUE(result.ok()) << encoded << ": " << result.error().message;
    EXPECT_EQ(*result, decoded) << encoded;
  }
}

TEST(MimeBase64, EncodesRfc4648VectorsAndBinaryRoundTrips) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded) << plain;
  }
  std::string bytes;
  for (int c = 0; c < 256; ++c) {
    bytes += static_cast<char>(c);
  }
  auto round_trip = base64_decode(base64_encode(bytes));
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(*round_trip, bytes);
}

TEST(MimeBase64, DecodesBinaryBytes) {
  Result<std::string> result = base64_decode("/+8A");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, std::string("\xff\xef\x00", 3));
}

TEST(MimeBase64, SkipsWhitespaceAndLineBreaks) {
  Result<std::string> result = base64_decode(" aGVs\nbG8g\r\nd29y bGQ=\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, "hello world");
}

TEST(MimeBase64, AcceptsMissingPadding) {
  Result<std::string> result = base64_decode("aGk");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "hi");
}

TEST(MimeBase64, RejectsInvalidCharacterGivingOffsetOnly) {
  Result<std::string> result = base64_decode("aGVs*bG8=");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "invalid base64: unexpected character at offset 4");
}

TEST(MimeBase64, RejectsUrlSafeAlphabet) {
  EXPECT_FALSE(base64_decode("_-8A").ok());
}

TEST(MimeBase64, RejectsDataAfterPadding) {
  Result<std::string> result = base64_decode("aGk=aGk=");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "invalid base64: data after padding at offset 4");
}

TEST(MimeBase64, RejectsTruncatedAndBadlyPaddedData) {
  EXPECT_EQ(base64_decode("aGVsb").error().message, "invalid base64: truncated data");
  EXPECT_EQ(base64_decode("aGk===").error().message,
            "invalid base64: too much padding at offset 5");
  EXPECT_EQ(base64_decode("aG=").error().message, "invalid base64: wrong padding");
}

TEST(MimeQuotedPrintable, DecodesEscapesAndSoftLineBreaks) {
  EXPECT_EQ(quoted_printable_decode("a=3Db=\nc=\r\nd\n"), "a=bcd\n");
  EXPECT_EQ(quoted_printable_decode("lower=3dcase"), "lower=case");
  EXPECT_EQ(quoted_printable_decode("caf=C3=A9"), "caf\xC3\xA9");
}

TEST(MimeQuotedPrintable, SoftLineBreakMayHaveTrailingBlanks) {
  EXPECT_EQ(quoted_printable_decode("one= \t\ntwo"), "onetwo");
  EXPECT_EQ(quoted_printable_decode("end="), "end");
}

TEST(MimeQuotedPrintable, KeepsHardLineBreaksAsTheyAre) {
  EXPECT_EQ(quoted_printable_decode("a\r\nb\nc"), "a\r\nb\nc");
}

TEST(MimeQuotedPrintable, KeepsMalformedEscapes) {
  EXPECT_EQ(quoted_printable_decode("x=ZZy"), "x=ZZy");
  EXPECT_EQ(quoted_printable_decode("x=4"), "x=4");
  EXPECT_EQ(quoted_printable_decode("a==b"), "a=b");
}

TEST(MimeEntity, ParsesFoldedCaseInsensitiveHeadersAndBody) {
  MimeEntity entity = parse_mime_entity(
      "content-TYPE: multipart/mixed;\n\tboundary=\"abc\"\nX-Other:  spaced value  \n\nbody\n");
  ASSERT_EQ(entity.headers.size(), 2u);
  EXPECT_EQ(entity.header("Content-Type"), "multipart/mixed;\tboundary=\"abc\"");
  EXPECT_EQ(entity.header("x-other"), "spaced value");
  EXPECT_EQ(entity.header("Missing"), std::nullopt);
  EXPECT_EQ(entity.body, "body\n");
}

TEST(MimeEntity, ParsesCrlfHeaders) {
  MimeEntity entity = parse_mime_entity("A: 1\r\nB: 2\r\n  folded\r\n\r\nline\r\n");
  EXPECT_EQ(entity.header("a"), "1");
  EXPECT_EQ(entity.header("b"), "2  folded");
  EXPECT_EQ(entity.body, "line\r\n");
}

TEST(MimeEntity, HeaderBlockEndsAtFirstNonHeaderLine) {
  MimeEntity entity = parse_mime_entity("Content-Type: text/plain\n#!/bin/sh\necho\n");
  EXPECT_EQ(entity.header("content-type"), "text/plain");
  EXPECT_EQ(entity.body, "#!/bin/sh\necho\n");
}

TEST(MimeEntity, NoHeadersAtAll) {
  MimeEntity entity = parse_mime_entity("#cloud-config\na: 1\n");
  EXPECT_TRUE(entity.headers.empty());
  EXPECT_EQ(entity.body, "#cloud-config\na: 1\n");
}

TEST(MimeEntity, LooksLikeMimeNeedsAContentTypeInTheHeaderBlock) {
  EXPECT_TRUE(looks_like_mime("Content-Type: multipart/mixed; boundary=x\nMIME-Version: 1.0\n\n"));
  EXPECT_TRUE(looks_like_mime("MIME-Version: 1.0\r\ncontent-type: text/x-shellscript\r\n\r\n"));
  EXPECT_FALSE(looks_like_mime("#cloud-config\nContent-Type: x\n"));
  EXPECT_FALSE(looks_like_mime("#!/bin/sh\necho Content-Type: text/plain\n"));
  EXPECT_FALSE(looks_like_mime("packages:\n  - nginx\n"));
  EXPECT_FALSE(looks_like_mime("MIME-Version: 1.0\n\nContent-Type: text/plain\n"));
}

TEST(MimeHeaderValue, ParsesQuotedAndUnquotedParameters) {
  MimeHeaderValue quoted =
      parse_mime_header_value("multipart/mixed; boundary=\"===============4372865474587012354==\"");
  EXPECT_EQ(quoted.value, "multipart/mixed");
  EXPECT_EQ(quoted.param("boundary"), "===============4372865474587012354==");

  MimeHeaderValue unquoted = parse_mime_header_value(" Multipart/Mixed ;BOUNDARY=abc== ; x=1");
  EXPECT_EQ(unquoted.value, "multipart/mixed");
  EXPECT_EQ(unquoted.param("boundary"), "abc==");
  EXPECT_EQ(unquoted.param("x"), "1");
  EXPECT_EQ(unquoted.param("absent"), "");
}

TEST(MimeHeaderValue, QuotedValuesMayHoldSemicolonsAndEscapes) {
  MimeHeaderValue value = parse_mime_header_value(R"(attachment; filename="a;b \"c\".sh"; size=3)");
  EXPECT_EQ(value.value, "attachment");
  EXPECT_EQ(value.param("filename"), "a;b \"c\".sh");
  EXPECT_EQ(value.param("size"), "3");
}

TEST(MimeHeaderValue, DecodesRfc2231ExtendedValues) {
  MimeHeaderValue value = parse_mime_header_value("attachment; filename*=utf-8''my%20script.sh");
  EXPECT_EQ(value.param("filename"), "my script.sh");
}

TEST(MimeSplit, DropsPreambleAndEpilogue) {
  Result<std::vector<std::string_view>> parts =
      split_multipart("preamble\n--b\nA: 1\n\none\n--b\n\ntwo\n\n--b--\nepilogue\n", "b");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ(as_strings(*parts), (std::vector<std::string>{"A: 1\n\none", "\ntwo\n"}));
}

TEST(MimeSplit, HandlesCrlfAndTransportPadding) {
  Result<std::vector<std::string_view>> parts =
      split_multipart("--b  \r\nA: 1\r\n\r\none\r\n--b\t\r\n\r\ntwo\r\n--b-- \r\n", "b");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(as_strings(*parts), (std::vector<std::string>{"A: 1\r\n\r\none", "\r\ntwo"}));
}

TEST(MimeSplit, LinesThatOnlyStartWithTheBoundaryAreContent) {
  Result<std::vector<std::string_view>> parts = split_multipart("--b\n\n--bx\n --b\n--b--\n", "b");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(as_strings(*parts), (std::vector<std::string>{"\n--bx\n --b"}));
}

TEST(MimeSplit, ToleratesAMissingCloseDelimiter) {
  Result<std::vector<std::string_view>> parts = split_multipart("--b\n\none\n--b\n\ntwo\n", "b");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(as_strings(*parts), (std::vector<std::string>{"\none", "\ntwo\n"}));
}

TEST(MimeSplit, KeepsEmptyParts) {
  Result<std::vector<std::string_view>> parts = split_multipart("--b\n--b\n\nx\n--b--", "b");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(as_strings(*parts), (std::vector<std::string>{"", "\nx"}));
}

TEST(MimeSplit, BoundaryThatNeverOccursIsAnError) {
  Result<std::vector<std::string_view>> parts = split_multipart("--other\n\nx\n", "b");
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().message, "multipart boundary never occurs in the body");
  EXPECT_FALSE(split_multipart("--\n", "").ok());
}

TEST(MimeTransferEncoding, DecodesKnownEncodingsCaseInsensitively) {
  EXPECT_EQ(*decode_transfer_encoding("a=3Db", ""), "a=3Db");
  EXPECT_EQ(*decode_transfer_encoding("a=3Db", "7bit"), "a=3Db");
  EXPECT_EQ(*decode_transfer_encoding("a=3Db", "8BIT"), "a=3Db");
  EXPECT_EQ(*decode_transfer_encoding("a=3Db", " Quoted-Printable "), "a=b");
  EXPECT_EQ(*decode_transfer_encoding("aGk=", "Base64"), "hi");
}

TEST(MimeTransferEncoding, RejectsUnknownEncodings) {
  Result<std::string> result = decode_transfer_encoding("begin 644 x", "x-uuencode");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "unsupported Content-Transfer-Encoding 'x-uuencode'");
}

TEST(MimeTransferEncoding, Base64ErrorsPassThrough) {
  Result<std::string> result = decode_transfer_encoding("aGk$", "base64");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "invalid base64: unexpected character at offset 3");
}

}  // namespace
}  // namespace amiboot
