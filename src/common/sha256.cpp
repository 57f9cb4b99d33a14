// SHA-256 through OpenSSL's EVP digest interface, one owner for its context.
#include "esm/common/sha256.hpp"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>

#include "esm/common/error.hpp"

namespace esm {

namespace {

struct free_context {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

void check(int ok, const char* call) {
  if (ok != 1) throw error(std::string("OpenSSL: ") + call + " failed");
}

}  // namespace

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error("cannot read '" + path + "'");
  const std::unique_ptr<EVP_MD_CTX, free_context> ctx(EVP_MD_CTX_new());
  if (!ctx) throw error("OpenSSL: EVP_MD_CTX_new failed");
  check(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
  std::array<char, 1 << 16> buffer{};
  while (in) {
    in.read(buffer.data(), buffer.size());
    if (in.gcount() > 0) check(EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(in.gcount())), "EVP_DigestUpdate");
  }
  if (in.bad()) throw file_error("reading '" + path + "' failed");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  check(EVP_DigestFinal_ex(ctx.get(), digest.data(), &size), "EVP_DigestFinal_ex");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace esm
