// Word lists the text scrubber matches against: surnames, given-name
// characters, honorifics, labels and province names. Kept apart from the
// matching code so they can grow without touching it.
#pragma once

#include <span>
#include <string_view>

namespace haip::lake::deid {

// Common single-character and compound surnames (UTF-8).
std::span<const std::string_view> SingleSurnames();
std::span<const std::string_view> CompoundSurnames();
// Characters frequent in given names; used only for names written without a
// label or honorific, where both given characters must come from this list.
std::span<const std::string_view> GivenNameChars();
// Characters that never start or continue a given name in running text
// (particles, verbs, clinical words): they end a candidate name.
std::span<const std::string_view> NameStopChars();
// Titles written right after a name: 先生, 女士, 医生, 主任, ...
std::span<const std::string_view> Honorifics();
// Two-character words that end in a surname character and precede an
// honorific without being a name: 主任医生 (任), 责任护士 (任), 主管医生 (管).
std::span<const std::string_view> TitleWords();
// Words that contain a surname followed by given-name characters but are not
// names (e.g. 安静, 金黄); the unlabelled-name heuristic skips them.
std::span<const std::string_view> NotNames();

// Labels followed by a person's name: 姓名：, 医师：, 联系人：, ...
std::span<const std::string_view> NameLabels();

struct IdLabel {
  std::string_view label;        // 病案号, 医保卡号, ...
  std::string_view placeholder;  // [病案号], [医保号], ...
};
// Labels followed by an identifier number.
std::span<const IdLabel> IdLabels();

// Province-level divisions (full and short forms, longest first within a
// division): the only part of an address that survives.
std::span<const std::string_view> Provinces();
// Street words that precede a house number (路, 街, 大道, ...).
std::span<const std::string_view> StreetWords();
// Characters an address may end with after the house number (室, 栋, 单元 ...).
std::span<const std::string_view> AddressUnitWords();
// Characters that end an address when scanning backwards from the street:
// the verb or label before it (住, 址, 在, 于, ...).
std::span<const std::string_view> AddressStopChars();

}  // namespace haip::lake::deid
