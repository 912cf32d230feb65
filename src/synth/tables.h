// Reference data for the generator: people, places, and the clinical
// vocabulary (ICD-10, LOINC, UCUM, ATC, ICD-9-CM-3, SNOMED CT routes).
// The data lives in tables_*.cpp; enums index the arrays so pattern code can
// name concepts without string look-ups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace haip::synth {

enum class Sex : uint8_t { kMale, kFemale };

// ---------------------------------------------------------------- people

struct Region {
  const char* province;
  const char* city;
  const char* district;
  const char* code;  // 6-digit administrative division code (GB/T 2260)
};

std::span<const Region> Regions();
std::span<const char* const> SingleSurnames();    // most common first
std::span<const char* const> CompoundSurnames();  // 欧阳, 司马, 诸葛 ...
std::span<const char* const> MaleGivenChars();
std::span<const char* const> FemaleGivenChars();
std::span<const char* const> Streets();
std::span<const char* const> Compounds();       // residential compound names
std::span<const char* const> MobilePrefixes();  // 3-digit prefixes in use
std::span<const char* const> HospitalNamePrefixes();
std::span<const char* const> DoctorTitles();

// ---------------------------------------------------------- departments

enum Dept : uint8_t {
  kDeptCardiology,
  kDeptEndocrinology,
  kDeptNephrology,
  kDeptRespiratory,
  kDeptEmergency,
  kDeptGeneralSurgery,
  kDeptNeurology,
  kDeptGastroenterology,
  kDeptHematology,
  kDeptGeneralMedicine,
  kDeptCount
};

struct DeptDef {
  const char* code;  // lowercase, used in resource ids
  const char* name;  // 心内科
  const char* english;
  const char* clinic;  // outpatient area name
  const char* ward;    // inpatient ward name
};
extern const DeptDef kDepts[kDeptCount];

// ----------------------------------------------------------- diagnoses

enum Dx : uint8_t {
  kDxDiabetes,
  kDxHypertension,
  kDxCkd3,
  kDxCkd4,
  kDxHyperlipidemia,
  kDxHeartFailure,
  kDxCopd,
  kDxCopdExacerbation,
  kDxIronDeficiencyAnemia,
  kDxChestPain,
  kDxMyocardialInfarction,
  kDxPneumonia,
  kDxAppendicitis,
  kDxCholecystitis,
  kDxCerebralInfarction,
  kDxUpperRespiratoryInfection,
  kDxGastroenteritis,
  kDxHealthCheck,
  kDxCount
};

struct DxDef {
  const char* icd10;
  const char* display;  // Chinese display used in coding.display, text and notes
  const char* english;
  bool chronic;
};
extern const DxDef kDxs[kDxCount];

// Durations in chief complaints ("3天", "2年").
enum class DurUnit : uint8_t { kNone, kHours, kDays, kMonths, kYears };

// Free-text fragments for notes, per diagnosis.
struct DxText {
  const char* complaint;  // chief complaint; a duration is appended
  DurUnit dur_unit;
  int dur_lo, dur_hi;
  const char* hpi;        // history of present illness
  const char* followup;   // state at an outpatient follow-up
  const char* course;     // hospital course for progress notes
  const char* discharge;  // condition at discharge
  const char* advice;     // instructions
};
extern const DxText kDxTexts[kDxCount];

// --------------------------------------------------- labs & vital signs

enum Lab : uint8_t {
  kLabHba1c,
  kLabFastingGlucose,
  kLabCreatinine,
  kLabEgfr,
  kLabPotassium,
  kLabSodium,
  kLabHemoglobin,
  kLabWbc,
  kLabPlatelets,
  kLabCrp,
  kLabProcalcitonin,
  kLabTroponinI,
  kLabNtProBnp,
  kLabTotalCholesterol,
  kLabLdl,
  kLabAlt,
  kLabFerritin,
  kLabCount
};

enum Vital : uint8_t {
  kVitalSystolic,
  kVitalDiastolic,
  kVitalHeartRate,
  kVitalRespRate,
  kVitalTemperature,
  kVitalSpo2,
  kVitalWeight,
  kVitalHeight,
  kVitalBmi,
  kVitalCount
};

// A quantitative measurement with a LOINC code, a UCUM unit and an adult
// reference interval (sex-specific where Chinese lab practice differs).
struct MeasureDef {
  const char* loinc;
  const char* display;  // LOINC long common name
  const char* name;     // Chinese name used in code.text and notes
  const char* ucum;
  const char* unit;  // human-readable unit
  bool has_low, has_high;
  double low_m, high_m, low_f, high_f;
  int decimals;
};
extern const MeasureDef kLabs[kLabCount];
extern const MeasureDef kVitals[kVitalCount];

// LOINC codes for panels and alternates used by the vital-signs profile.
inline constexpr const char* kLoincBpPanel = "85354-9";
inline constexpr const char* kLoincBpPanelDisplay =
    "Blood pressure panel with all children optional";
inline constexpr const char* kLoincSpo2Base = "2708-6";
inline constexpr const char* kLoincSpo2BaseDisplay = "Oxygen saturation in Arterial blood";

// ----------------------------------------------------------- medications

enum Route : uint8_t {
  kRouteOral,
  kRouteIv,
  kRouteSc,
  kRouteInhaled,
  kRouteSublingual,
  kRouteCount
};

struct RouteDef {
  const char* snomed;
  const char* display;
  const char* name;  // 口服
};
extern const RouteDef kRoutes[kRouteCount];

enum Drug : uint8_t {
  kDrugMetformin,
  kDrugGliclazide,
  kDrugAcarbose,
  kDrugInsulinGlargine,
  kDrugAmlodipine,
  kDrugValsartan,
  kDrugAtorvastatin,
  kDrugAspirin,
  kDrugClopidogrel,
  kDrugMetoprolol,
  kDrugFurosemide,
  kDrugNitroglycerin,
  kDrugCeftriaxone,
  kDrugLevofloxacin,
  kDrugMetronidazole,
  kDrugCefuroxime,
  kDrugTiotropium,
  kDrugSalmeterolFluticasone,
  kDrugCalcitriol,
  kDrugEpoetin,
  kDrugFerrousSuccinate,
  kDrugParacetamol,
  kDrugMontmorillonite,
  kDrugAlteplase,
  kDrugOmeprazole,
  kDrugLosartan,
  kDrugAmbroxol,
  kDrugMethylprednisolone,
  kDrugAmoxicillinClavulanate,
  kDrugCount
};

struct DrugDef {
  const char* atc;
  const char* name;     // Chinese generic name
  const char* english;  // INN
  double dose;
  int dose_decimals;
  const char* dose_ucum;
  const char* dose_unit;  // Chinese/clinical unit text
  Route route;
  int frequency;  // administrations per period; 0 = once (stat) or as needed
  int period;
  const char* period_unit;  // UCUM time unit for Timing.repeat.periodUnit
  const char* frequency_text;
  bool as_needed;
  bool chronic;  // continued after discharge / renewed at follow-ups
};
extern const DrugDef kDrugs[kDrugCount];

// ------------------------------------------------------------ procedures

enum Proc : uint8_t {
  kProcEcg,
  kProcChestXray,
  kProcEchocardiography,
  kProcCoronaryAngiography,
  kProcPtca,
  kProcDrugElutingStent,
  kProcLapAppendectomy,
  kProcLapCholecystectomy,
  kProcAbdominalUltrasound,
  kProcHeadCt,
  kProcChestCt,
  kProcSpirometry,
  kProcThrombolysis,
  kProcOxygenTherapy,
  kProcUrinaryUltrasound,
  kProcAbdominalCt,
  kProcCount
};

enum class ProcKind : uint8_t { kDiagnostic, kSurgical, kTherapeutic };

struct ProcDef {
  const char* code;  // ICD-9-CM volume 3
  const char* name;
  const char* english;
  ProcKind kind;
};
extern const ProcDef kProcs[kProcCount];

// ----------------------------------------------------------------- notes

enum NoteType : uint8_t {
  kNoteOutpatient,
  kNoteEmergency,
  kNoteAdmission,
  kNoteProgress,
  kNoteDischarge,
  kNoteTypeCount
};

struct NoteTypeDef {
  const char* loinc;
  const char* display;
  const char* title;  // 入院记录
};
extern const NoteTypeDef kNoteTypes[kNoteTypeCount];

}  // namespace haip::synth
