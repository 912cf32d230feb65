#include "security/password.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace haip::security {
namespace {

TEST(Password, Argon2idHashesVerifyAndAreSalted) {
  PasswordParams p{1024, 1, 1};
  std::string h1 = HashPassword("correct horse battery", p);
  std::string h2 = HashPassword("correct horse battery", p);
  EXPECT_EQ(h1.rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << h1;
  EXPECT_NE(h1, h2);
  EXPECT_TRUE(VerifyPassword("correct horse battery", h1));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", h1));
  EXPECT_FALSE(VerifyPassword("anything", "not a hash"));
  EXPECT_FALSE(VerifyPassword("anything", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"));
}

TEST(Password, PolicyCountsCharactersNotBytes) {
  EXPECT_THROW(CheckPasswordPolicy("short", 12), Error);
  EXPECT_THROW(CheckPasswordPolicy("aaaaaaaaaaaaaaa", 12), Error);
  EXPECT_NO_THROW(CheckPasswordPolicy("a-long-enough-pass", 12));
  // Six Chinese characters are 18 bytes but only six characters.
  EXPECT_THROW(CheckPasswordPolicy("心内科医生好", 12), Error);
  EXPECT_NO_THROW(CheckPasswordPolicy("心内科医生好心内科医生好", 12));
}

TEST(Password, GeneratedPasswordsAreReadableAndDistinct) {
  std::string a = GeneratePassword(), b = GeneratePassword();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  EXPECT_EQ(a.find_first_of("0O1lI"), std::string::npos);
}

}  // namespace
}  // namespace haip::security
