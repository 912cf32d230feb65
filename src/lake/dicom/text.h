// Text helpers shared by the DICOM reader, the ImagingStudy mapping and the
// Orthanc connector (private to src/lake/dicom).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace haip::lake::dicom {

// Valid UTF-8 (invalid sequences become U+FFFD), without the leading/trailing
// spaces and NULs DICOM uses as padding.
std::string Utf8Trimmed(std::string_view s);
// An IS value ("  12", "+3") -> integer; nullopt if empty or malformed.
std::optional<int32_t> ParseDicomInt(std::string_view s);
// 1..64 characters of digits and dots, no empty component.
bool IsDicomUid(std::string_view s);
// "2.25.<decimal of the first 128 bits of SHA-256(seed)>": a UID under the
// UUID-derived root (PS3.5 B.2), deterministic for the seed.
std::string DerivedUid(std::string_view seed);
// DA "YYYYMMDD" (also "YYYY.MM.DD") -> "YYYY-MM-DD"; empty if invalid.
std::string DicomDateToFhir(std::string_view da);
// DA + TM (+ "+HHMM" offset or a "+HH:MM" default) -> FHIR dateTime; date
// only when there is no time or no zone; empty if the date is invalid.
std::string DicomDateTimeToFhir(std::string_view da, std::string_view tm, std::string_view offset,
                                std::string_view default_timezone);

}  // namespace haip::lake::dicom
