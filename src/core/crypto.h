// Hashes, MACs and randomness (OpenSSL). Everything returns lowercase hex or
// base64url strings so values can go straight into JSON and SQL text columns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace haip::crypto {

std::string Sha256Hex(std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Cryptographically secure random bytes; throws Error(kInternal) if the CSPRNG fails.
std::string RandomBytes(size_t n);
// n random bytes as unpadded base64url.
std::string RandomToken(size_t n);
std::string HexEncode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);
// Compares in time independent of where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace haip::crypto
