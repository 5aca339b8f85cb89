#include "tasks/code/lcb_test_codec.h"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdio>

namespace r1lab::code {

std::string base64_decode(std::string_view text) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
  }();
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    int value = table[static_cast<unsigned char>(c)];
    if (value < 0) throw TestCodecError(std::string("base64: unexpected character '") + c + "'");
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string zlib_inflate(std::string_view compressed) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) throw TestCodecError("zlib: inflateInit failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  std::array<char, 1 << 16> chunk{};
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      inflateEnd(&stream);
      throw TestCodecError(std::string("zlib: ") + (stream.msg != nullptr ? stream.msg : "corrupt data"));
    }
    out.append(chunk.data(), chunk.size() - stream.avail_out);
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      throw TestCodecError("zlib: data ends early");
    }
  }
  inflateEnd(&stream);
  return out;
}

std::string unpickle_string(std::string_view p) {
  std::size_t at = 0;
  auto need = [&](std::size_t n) {
    if (at + n > p.size()) throw TestCodecError("pickle: ends early at byte " + std::to_string(at));
  };
  auto little_endian = [&](std::size_t n) {
    need(n);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < n; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[at + i])) << (8 * i);
    at += n;
    return value;
  };
  std::string value;
  bool have_value = false;
  while (true) {
    need(1);
    auto opcode = static_cast<unsigned char>(p[at++]);
    switch (opcode) {
      case 0x80: need(1); ++at; break;                       // PROTO
      case 0x95: little_endian(8); break;                    // FRAME (a length hint)
      case 0x94: break;                                      // MEMOIZE
      case 'q': need(1); ++at; break;                        // BINPUT
      case 'p': { auto end = p.find('\n', at); if (end == std::string_view::npos) throw TestCodecError("pickle: bad PUT"); at = end + 1; break; }
      case 0x8c: case 'X': case 0x8d: {                      // SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
        std::size_t length = static_cast<std::size_t>(little_endian(opcode == 0x8c ? 1 : opcode == 'X' ? 4 : 8));
        need(length);
        value.assign(p.substr(at, length));
        at += length;
        have_value = true;
        break;
      }
      case '.':                                              // STOP
        if (!have_value) throw TestCodecError("pickle: no string in it");
        return value;
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", opcode);
        throw TestCodecError(std::string("pickle: opcode ") + hex + " at byte " + std::to_string(at - 1) +
                             " is not part of a pickled str; refusing it");
      }
    }
  }
}

std::string decode_lcb_private_tests(std::string_view packed) {
  return unpickle_string(zlib_inflate(base64_decode(packed)));
}

}  // namespace r1lab::code
