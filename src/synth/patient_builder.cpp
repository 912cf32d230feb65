// Builds one synthetic patient: demographics, a disease profile, and a
// timeline of encounters whose labs, vital signs, drugs, procedures and notes
// follow that profile. Chronic diseases produce outpatient follow-up series
// with coherent trends (HbA1c falling on treatment, eGFR declining in CKD);
// acute problems produce emergency visits and admissions.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <span>
#include <utility>

#include "synth/dates.h"
#include "synth/generator.h"
#include "synth/json_writer.h"
#include "synth/model.h"
#include "synth/names.h"
#include "synth/notes.h"
#include "synth/rng.h"

namespace haip::synth {

namespace {

constexpr int64_t kHour = 60;
constexpr int64_t kDay = kMinutesPerDay;
constexpr int64_t kHistoryDays = 5 * 365;

double Round(double v, int decimals) {
  static constexpr double kPow10[] = {1, 10, 100, 1000, 10000};
  return static_cast<double>(std::llround(v * kPow10[decimals])) / kPow10[decimals];
}

double Clamp(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

// Overrides for one set of vital signs; zero means "use the patient's usual".
struct VitalMods {
  double temp = 0;
  int spo2 = 0, rr = 0, hr = 0, sys = 0, dia = 0;
  bool anthro = false;
};

using LabList = std::vector<std::pair<Lab, double>>;

// An outpatient or emergency visit.
struct VisitPlan {
  EncClass cls = EncClass::kAmbulatory;
  Dept dept = kDeptGeneralMedicine;
  int64_t start = 0;
  int duration = 60;  // minutes
  std::vector<int> conds;
  LabList labs;
  std::vector<Proc> procs;
  std::vector<Drug> meds;
  VitalMods vitals;
  bool followup = false;
  int complaint_dur = 0;
  std::string disposition;  // replaces the diagnosis' advice in the note
};

struct InpatientPlan {
  Dept dept = kDeptGeneralMedicine;
  int64_t start = 0;
  int los_days = 3;  // at least 3 so both progress notes fit before discharge
  bool from_emergency = false;
  std::vector<int> conds;
  LabList admission_labs, discharge_labs;
  std::vector<Proc> admission_procs;  // on the admission day (incl. emergency surgery)
  std::vector<Proc> day1_procs;       // on the next morning
  std::vector<Drug> meds;
  VitalMods admission_vitals, discharge_vitals;
  int complaint_dur = 0;
  bool resolves = true;  // the primary condition is resolved at discharge
};

class Builder {
 public:
  Builder(const Context& ctx, uint64_t index, PatientRecord& p)
      : ctx_(ctx), p_(p), rng_(Mix(ctx.seed, index)) {
    p_.index = index;
  }

  void Build() {
    Reset();
    Demographics();
    ChooseProfile();
    PlanChronic();
    RunChronic();
    RunAcute();
    if (p_.encounters.empty()) HealthCheck(FreeDay(0, 0, ctx_.ref_day - 1));
    Finish();
  }

 private:
  // ------------------------------------------------------------ set-up

  void Reset() {
    p_.conditions.clear();
    p_.encounters.clear();
    p_.encounter_order.clear();
    p_.encounter_rank.clear();
    p_.condition_rank.clear();
    busy_.clear();
    chronic_.fill(Chronic{});
  }

  void Demographics() {
    IdentitySpace::Identity id = ctx_.identities.Assign(p_.index);
    p_.birth_day = id.birth_day;
    p_.sex = (id.sequence % 2 == 1) ? Sex::kMale : Sex::kFemale;
    auto regions = Regions();
    const Region& born = regions[id.region];
    p_.id_card.clear();
    p_.id_card += born.code;
    CivilDate b = CivilFromDays(id.birth_day);
    char digits[24];
    std::snprintf(digits, sizeof digits, "%04d%02d%02d%03d", b.year, b.month, b.day, id.sequence);
    p_.id_card += digits;
    p_.id_card += IdCardCheckChar(p_.id_card);

    RandomName(rng_, p_.sex, p_.family, p_.given);

    auto prefixes = MobilePrefixes();
    p_.mobile = prefixes[rng_.Below(prefixes.size())];
    for (int i = 0; i < 8; ++i) p_.mobile += static_cast<char>('0' + rng_.Below(10));

    // Most patients still live where they were registered; the rest moved to
    // the hospital's city.
    p_.region = rng_.Chance(0.7) ? id.region : ctx_.hospital_region;
    auto streets = Streets();
    auto compounds = Compounds();
    p_.address_line = streets[rng_.Below(streets.size())];
    p_.address_line += std::to_string(rng_.Int(1, 399)) + "号";
    p_.address_line += compounds[rng_.Below(compounds.size())];
    p_.address_line += std::to_string(rng_.Int(1, 30)) + "栋" + std::to_string(rng_.Int(1, 6)) +
                       "单元" + std::to_string(rng_.Int(1, 28)) + "0" +
                       std::to_string(rng_.Int(1, 4)) + "室";

    age_ = AgeYears(p_.birth_day, ctx_.ref_day);
    male_ = p_.sex == Sex::kMale;
    p_.height_cm =
        static_cast<int>(std::lround(male_ ? rng_.Normal(170, 6) : rng_.Normal(159, 5.5)));
    history_start_ = std::max(ctx_.ref_day - kHistoryDays, p_.birth_day + 14 * 365);
  }

  void ChooseProfile() {
    const double a = age_;
    htn_ = a >= 30 && rng_.Chance(Clamp(0.04 + (a - 30) * 0.009, 0, 0.55));
    dm_ = a >= 30 && rng_.Chance(Clamp(0.02 + (a - 30) * 0.004, 0, 0.22) + (htn_ ? 0.08 : 0));
    hl_ = a >= 35 && rng_.Chance(0.10 + (dm_ ? 0.15 : 0) + (htn_ ? 0.08 : 0));
    ckd_ = a >= 40 && rng_.Chance(0.02 + (dm_ ? 0.12 : 0) + (htn_ ? 0.06 : 0));
    ckd4_ = ckd_ && rng_.Chance(0.3);
    hf_ = a >= 50 && rng_.Chance(0.02 + (htn_ ? 0.05 : 0) + (ckd_ ? 0.04 : 0));
    copd_ = a >= 45 && rng_.Chance(male_ ? 0.08 : 0.03);
    ida_ = rng_.Chance(!male_ && a < 55 ? 0.08 : 0.015);

    double bmi = rng_.Normal(23.2, 2.6) + (dm_ ? 1.5 : 0) + (htn_ ? 1.0 : 0);
    bmi = Clamp(bmi, 17, 34);
    p_.weight_kg = Round(bmi * p_.height_cm * p_.height_cm / 10000.0, 1);
  }

  // ----------------------------------------------------- chronic series

  struct Chronic {
    bool has = false;
    int cond = -1;
    Dept dept = kDeptGeneralMedicine;
    std::vector<int64_t> days;
    int64_t first_visit = kNever;  // minute of the first visit
    int64_t last_visit = kNever;   // start of the last visit's day
    int complaint_dur = 0;
  };

  void PlanSeries(Dx dx, Dept dept) {
    Chronic& c = chronic_[dx];
    c.has = true;
    c.dept = dept;
    int n = rng_.Int(2, 6);
    c.days.assign(static_cast<size_t>(n), 0);
    int64_t d = ctx_.ref_day - rng_.Int(1, 45);
    for (int i = n - 1; i >= 0; --i) {
      c.days[static_cast<size_t>(i)] = d;
      d -= rng_.Int(60, 150);
    }
    c.first_visit = ClinicTime(c.days.front());
    c.last_visit = c.days.back() * kDay;
    const DxText& tx = kDxTexts[dx];
    int dur = rng_.Int(tx.dur_lo, tx.dur_hi);
    int64_t onset_day = c.days.front() - DurationDays(tx.dur_unit, dur);
    c.cond = NewCondition(dx, onset_day * kDay, c.first_visit);
    c.complaint_dur = dur;
    for (int64_t day : c.days) busy_.push_back({day, day});
  }

  void PlanChronic() {
    if (dm_) PlanSeries(kDxDiabetes, kDeptEndocrinology);
    if (htn_) PlanSeries(kDxHypertension, kDeptCardiology);
    if (ckd_) {
      Dx dx = ckd4_ ? kDxCkd4 : kDxCkd3;
      PlanSeries(dx, kDeptNephrology);
      // The eGFR trajectory is fixed up front so every encounter (not only
      // nephrology visits) reports a creatinine consistent with it.
      const Chronic& c = chronic_[dx];
      double floor = ckd4_ ? 15.5 : 30.5;
      double e = ckd4_ ? rng_.Range(17, 29) : rng_.Range(34, 58);
      egfr_.clear();
      for (size_t i = 0; i < c.days.size(); ++i) {
        if (i > 0) e = std::max(floor, e - rng_.Range(0.5, 4.0));
        egfr_.push_back({c.days[i] * kDay, Round(e, 1)});
      }
    }
    if (hl_) PlanSeries(kDxHyperlipidemia, dm_ ? kDeptEndocrinology : kDeptCardiology);
    if (hf_) PlanSeries(kDxHeartFailure, kDeptCardiology);
    if (copd_) PlanSeries(kDxCopd, kDeptRespiratory);
    if (ida_) PlanSeries(kDxIronDeficiencyAnemia, kDeptHematology);
  }

  void RunChronic() {
    if (dm_) Diabetes();
    if (htn_) Hypertension();
    if (ckd_) Ckd();
    if (hl_) Hyperlipidemia();
    if (hf_) HeartFailure();
    if (copd_) Copd();
    if (ida_) IronDeficiency();
    // Admissions come after every series so that a condition's first
    // encounter is always its first outpatient visit.
    if (hf_ && rng_.Chance(0.4)) HeartFailureAdmission();
    if (copd_ && rng_.Chance(0.5)) CopdExacerbation();
  }

  // Common skeleton of a follow-up series; `fill` adds the disease-specific
  // content to each visit's plan.
  template <typename Fill>
  void Series(Dx dx, Fill fill) {
    Chronic& c = chronic_[dx];
    for (size_t i = 0; i < c.days.size(); ++i) {
      VisitPlan v;
      v.cls = EncClass::kAmbulatory;
      v.dept = c.dept;
      v.start = i == 0 ? c.first_visit : ClinicTime(c.days[i]);
      v.duration = rng_.Int(40, 90);
      v.conds = {c.cond};
      v.followup = i > 0;
      v.complaint_dur = c.complaint_dur;
      v.vitals.anthro = i == 0;
      fill(static_cast<int>(i), v);
      Visit(v);
    }
  }

  bool Ckd4() const { return ckd_ && ckd4_; }

  void Diabetes() {
    double h0 = rng_.Range(7.6, 10.8);
    double target = rng_.Range(6.4, 7.6);
    double factor = 1;
    uint32_t drugs = 0;
    Series(kDxDiabetes, [&](int i, VisitPlan& v) {
      double hba1c = target + (h0 - target) * factor + rng_.Normal(0, 0.15);
      factor *= 0.55;
      double fpg = 5.2 + (hba1c - 5.5) * 1.4 + rng_.Normal(0, 0.4);
      v.labs = {{kLabHba1c, hba1c}, {kLabFastingGlucose, fpg}};
      if (i == 0) v.labs.push_back({kLabCreatinine, CreatinineAt(v.start)});
      // Metformin is contraindicated below eGFR 30, so CKD 4 patients get
      // basal insulin instead.
      if (Ckd4()) {
        drugs |= 1u << kDrugInsulinGlargine;
      } else {
        drugs |= 1u << kDrugMetformin;
        if (hba1c > 8.0 && (i > 0 || h0 > 9.5)) drugs |= 1u << kDrugGliclazide;
        if (hba1c > 9.8) drugs |= 1u << kDrugInsulinGlargine;
      }
      for (Drug d : {kDrugMetformin, kDrugGliclazide, kDrugInsulinGlargine}) {
        if (drugs & (1u << d)) v.meds.push_back(d);
      }
    });
  }

  void Hypertension() {
    int s0 = rng_.Int(150, 178);
    int d0 = rng_.Int(92, 106);
    double factor = 1;
    bool second_drug = false;
    Series(kDxHypertension, [&](int i, VisitPlan& v) {
      int sys = i == 0
                    ? s0
                    : static_cast<int>(std::lround(128 + (s0 - 128) * factor + rng_.Normal(0, 5)));
      int dia =
          i == 0 ? d0 : static_cast<int>(std::lround(80 + (d0 - 80) * factor + rng_.Normal(0, 3)));
      factor *= 0.5;
      v.vitals.sys = sys;
      v.vitals.dia = dia;
      if (i == 0) {
        v.labs = {{kLabPotassium, NormalLab(kLabPotassium)},
                  {kLabCreatinine, CreatinineAt(v.start)}};
        v.procs = {kProcEcg};
      }
      v.meds = {kDrugAmlodipine};
      // An ARB protects the kidneys of diabetics; CKD patients already get
      // losartan from nephrology, and two ARBs must not be combined.
      if (!ckd_ && (dm_ || (i > 0 && sys >= 145))) second_drug = true;
      if (second_drug) v.meds.push_back(kDrugValsartan);
    });
  }

  void Ckd() {
    Dx dx = ckd4_ ? kDxCkd4 : kDxCkd3;
    Series(dx, [&](int i, VisitPlan& v) {
      double egfr = egfr_[static_cast<size_t>(i)].second;
      double hb =
          ckd4_ ? rng_.Range(84, 106) : (male_ ? rng_.Range(104, 128) : rng_.Range(98, 118));
      double k = ckd4_ ? rng_.Range(4.6, 5.8) : rng_.Range(4.2, 5.2);
      v.labs = {{kLabEgfr, egfr},
                {kLabCreatinine, CreatinineFromEgfr(egfr)},
                {kLabPotassium, k},
                {kLabHemoglobin, hb}};
      if (i == 0) v.procs = {kProcUrinaryUltrasound};
      if (k < 5.5) v.meds.push_back(kDrugLosartan);
      if (ckd4_) v.meds.push_back(kDrugCalcitriol);
      if (hb < 100) v.meds.push_back(kDrugEpoetin);
    });
  }

  void Hyperlipidemia() {
    double l0 = rng_.Range(3.7, 5.2);
    double target = rng_.Range(2.0, 2.8);
    double factor = 1;
    Series(kDxHyperlipidemia, [&](int, VisitPlan& v) {
      double ldl = target + (l0 - target) * factor + rng_.Normal(0, 0.1);
      factor *= 0.45;
      v.labs = {{kLabLdl, ldl},
                {kLabTotalCholesterol, ldl + rng_.Range(1.6, 2.2)},
                {kLabAlt, NormalLab(kLabAlt)}};
      v.meds = {kDrugAtorvastatin};
    });
  }

  void HeartFailure() {
    double b0 = rng_.Range(900, 4500);
    double factor = 1;
    Series(kDxHeartFailure, [&](int i, VisitPlan& v) {
      double bnp = 300 + (b0 - 300) * factor;
      bnp *= rng_.Range(0.95, 1.05);
      factor *= 0.6;
      v.labs = {{kLabNtProBnp, bnp}, {kLabPotassium, rng_.Range(3.6, 4.9)}};
      if (i == 0) {
        v.labs.push_back({kLabCreatinine, CreatinineAt(v.start)});
        v.procs = {kProcEchocardiography, kProcEcg};
      }
      v.vitals.spo2 = rng_.Int(94, 97);
      v.meds = {kDrugFurosemide, kDrugMetoprolol};
    });
  }

  void HeartFailureAdmission() {
    const Chronic& c = chronic_[kDxHeartFailure];
    int64_t day = FreeDay(10, DayOf(c.first_visit) + 20, ctx_.ref_day - 15);
    if (day < 0) return;
    InpatientPlan plan;
    plan.dept = kDeptCardiology;
    plan.from_emergency = rng_.Chance(0.6);
    plan.start = plan.from_emergency ? day * kDay + rng_.Int(0, 1439) : ClinicTime(day);
    plan.los_days = rng_.Int(5, 9);
    plan.conds = {c.cond};
    plan.complaint_dur = c.complaint_dur;
    plan.admission_labs = {{kLabNtProBnp, rng_.Range(5000, 15000)},
                           {kLabPotassium, rng_.Range(3.5, 5.0)},
                           {kLabSodium, rng_.Range(131, 140)},
                           {kLabCreatinine, CreatinineAt(plan.start)}};
    plan.discharge_labs = {{kLabNtProBnp, rng_.Range(1500, 4000)}};
    plan.admission_procs = {kProcOxygenTherapy, kProcEchocardiography};
    plan.meds = {kDrugFurosemide, kDrugMetoprolol};
    plan.admission_vitals = {
        .spo2 = rng_.Int(87, 92), .rr = rng_.Int(24, 30), .hr = rng_.Int(100, 120)};
    plan.resolves = false;
    if (plan.from_emergency) {
      EmergencyThenAdmit(plan, {}, {kProcEcg}, {}, plan.admission_vitals);
    } else {
      Inpatient(plan);
    }
  }

  void Copd() {
    bool severe = rng_.Chance(0.5);
    Series(kDxCopd, [&](int i, VisitPlan& v) {
      if (i == 0) {
        v.procs = {kProcSpirometry};
        v.labs = {{kLabWbc, NormalLab(kLabWbc)}, {kLabHemoglobin, NormalLab(kLabHemoglobin)}};
      }
      v.vitals.spo2 = rng_.Int(91, 95);
      v.vitals.rr = rng_.Int(18, 22);
      v.meds = {kDrugTiotropium};
      if (severe) v.meds.push_back(kDrugSalmeterolFluticasone);
    });
  }

  void CopdExacerbation() {
    const Chronic& c = chronic_[kDxCopd];
    int64_t day = FreeDay(12, DayOf(c.first_visit) + 20, ctx_.ref_day - 15);
    if (day < 0) return;
    InpatientPlan plan;
    plan.dept = kDeptRespiratory;
    plan.from_emergency = rng_.Chance(0.5);
    plan.start = plan.from_emergency ? day * kDay + rng_.Int(0, 1439) : ClinicTime(day);
    plan.los_days = rng_.Int(6, 10);
    plan.complaint_dur = Duration(kDxCopdExacerbation);
    int exac =
        NewCondition(kDxCopdExacerbation, plan.start - plan.complaint_dur * kDay, plan.start + 30);
    plan.conds = {exac, c.cond};
    plan.admission_labs = {{kLabWbc, rng_.Range(10.2, 15)},
                           {kLabCrp, rng_.Range(20, 80)},
                           {kLabProcalcitonin, rng_.Range(0.1, 0.5)}};
    plan.discharge_labs = {{kLabWbc, rng_.Range(5, 9)}, {kLabCrp, rng_.Range(4, 15)}};
    plan.admission_procs = {kProcChestXray, kProcOxygenTherapy};
    plan.meds = {kDrugMethylprednisolone, kDrugLevofloxacin, kDrugAmbroxol, kDrugTiotropium};
    plan.admission_vitals = {.temp = rng_.Range(37.5, 38.5),
                             .spo2 = rng_.Int(85, 90),
                             .rr = rng_.Int(24, 30),
                             .hr = rng_.Int(96, 115)};
    if (plan.from_emergency) {
      EmergencyThenAdmit(plan, {{kLabWbc, plan.admission_labs[0].second}}, {kProcChestXray}, {},
                         plan.admission_vitals);
    } else {
      Inpatient(plan);
    }
  }

  void IronDeficiency() {
    double h0 = male_ ? rng_.Range(86, 112) : rng_.Range(72, 100);
    double h_target = male_ ? rng_.Range(132, 145) : rng_.Range(118, 130);
    double f0 = rng_.Range(3, 11);
    double f_target = rng_.Range(25, 60);
    double factor = 1;
    Series(kDxIronDeficiencyAnemia, [&](int i, VisitPlan& v) {
      double hb = h0 + (h_target - h0) * (1 - factor);
      double ferritin = f0 + (f_target - f0) * (1 - factor);
      factor *= 0.45;
      v.labs = {{kLabHemoglobin, hb}, {kLabFerritin, ferritin}};
      if (i == 0) {
        v.labs.push_back({kLabWbc, NormalLab(kLabWbc)});
        v.labs.push_back({kLabPlatelets, NormalLab(kLabPlatelets)});
      }
      v.meds = {kDrugFerrousSuccinate};
    });
  }

  // ------------------------------------------------------- acute episodes

  void RunAcute() {
    const double a = age_;
    const int risk = (htn_ ? 1 : 0) + (dm_ ? 1 : 0) + (hl_ ? 1 : 0);
    if (a >= 35 && rng_.Chance(0.05 + 0.03 * risk)) ChestPain();
    if (rng_.Chance(0.05 + (copd_ ? 0.08 : 0) + (a >= 65 ? 0.05 : 0))) Pneumonia();
    if (a < 60 && rng_.Chance(0.03)) Appendicitis();
    if (a >= 30 && rng_.Chance(male_ ? 0.03 : 0.04)) Cholecystitis();
    if (a >= 50 &&
        rng_.Chance(0.015 + 0.02 * (htn_ ? 1 : 0) + 0.015 * (dm_ ? 1 : 0) + 0.01 * (hl_ ? 1 : 0))) {
      Stroke();
    }
    if (rng_.Chance(0.25)) UpperRespiratoryInfection();
    if (rng_.Chance(0.12)) Gastroenteritis();
    bool chronic_any = dm_ || htn_ || ckd_ || hl_ || hf_ || copd_ || ida_;
    if (!chronic_any && rng_.Chance(0.1)) {
      int64_t day = FreeDay(0, history_start_, ctx_.ref_day - 1);
      if (day >= 0) HealthCheck(day);
    }
  }

  void ChestPain() {
    int64_t day = FreeDay(12, history_start_, ctx_.ref_day - 15);
    if (day < 0) return;
    const int risk = (htn_ ? 1 : 0) + (dm_ ? 1 : 0) + (hl_ ? 1 : 0);
    bool mi = rng_.Chance(0.2 + 0.12 * risk + (age_ > 60 ? 0.1 : 0));
    int64_t start = day * kDay + rng_.Int(0, 1439);
    Dx dx = mi ? kDxMyocardialInfarction : kDxChestPain;
    int dur = Duration(dx);
    int cond = NewCondition(dx, start - dur * kHour, start + 30);
    if (!mi) {
      VisitPlan v;
      v.cls = EncClass::kEmergency;
      v.dept = kDeptEmergency;
      v.start = start;
      v.duration = rng_.Int(120, 300);
      v.conds = {cond};
      v.complaint_dur = dur;
      v.labs = {{kLabTroponinI, rng_.Range(0.002, 0.03)},
                {kLabPotassium, NormalLab(kLabPotassium)},
                {kLabCreatinine, CreatinineAt(start)}};
      v.procs = {kProcEcg};
      if (rng_.Chance(0.5)) v.meds = {kDrugNitroglycerin};
      int enc = Visit(v);
      Resolve(cond, p_.encounters[static_cast<size_t>(enc)].end);
      return;
    }
    InpatientPlan plan;
    plan.dept = kDeptCardiology;
    plan.from_emergency = true;
    plan.start = start;
    plan.los_days = rng_.Int(5, 9);
    plan.conds = {cond};
    plan.complaint_dur = dur;
    plan.admission_labs = {{kLabTroponinI, rng_.Range(5, 40)},
                           {kLabLdl, LdlAt(start)},
                           {kLabFastingGlucose, GlucoseAt(start)},
                           {kLabCreatinine, CreatinineAt(start)}};
    plan.discharge_labs = {{kLabTroponinI, rng_.Range(0.2, 3)}};
    plan.day1_procs = {kProcCoronaryAngiography, kProcPtca, kProcDrugElutingStent};
    plan.meds = {kDrugAspirin, kDrugClopidogrel, kDrugAtorvastatin, kDrugMetoprolol,
                 kDrugOmeprazole};
    plan.admission_vitals = {.spo2 = rng_.Int(93, 97), .hr = rng_.Int(88, 112)};
    plan.resolves = false;
    // Emergency PCI happens within hours of arrival, not the next morning.
    plan.admission_procs = plan.day1_procs;
    plan.day1_procs.clear();
    EmergencyThenAdmit(plan, {{kLabTroponinI, rng_.Range(0.8, 15)}}, {kProcEcg},
                       {kDrugAspirin, kDrugClopidogrel}, plan.admission_vitals);
  }

  void Pneumonia() {
    int64_t day = FreeDay(12, history_start_, ctx_.ref_day - 15);
    if (day < 0) return;
    bool admit = age_ >= 65 || copd_ || rng_.Chance(0.5);
    int dur = Duration(kDxPneumonia);
    if (!admit) {
      VisitPlan v;
      v.dept = kDeptRespiratory;
      v.start = ClinicTime(day);
      v.duration = rng_.Int(60, 120);
      int cond = NewCondition(kDxPneumonia, v.start - dur * kDay, v.start + 30);
      v.conds = {cond};
      v.complaint_dur = dur;
      v.labs = {{kLabWbc, rng_.Range(10, 13.5)}, {kLabCrp, rng_.Range(15, 60)}};
      v.procs = {kProcChestXray};
      v.meds = {kDrugAmoxicillinClavulanate, kDrugAmbroxol};
      v.vitals = {.temp = rng_.Range(37.8, 38.6), .hr = rng_.Int(88, 104)};
      int enc = Visit(v);
      Resolve(cond, std::min(p_.encounters[static_cast<size_t>(enc)].end + 7 * kDay,
                             ctx_.ref_day * kDay));
      return;
    }
    InpatientPlan plan;
    plan.dept = kDeptRespiratory;
    plan.from_emergency = rng_.Chance(0.5);
    plan.start = plan.from_emergency ? day * kDay + rng_.Int(0, 1439) : ClinicTime(day);
    plan.los_days = rng_.Int(6, 10);
    plan.complaint_dur = dur;
    plan.conds = {NewCondition(kDxPneumonia, plan.start - dur * kDay, plan.start + 30)};
    double wbc = rng_.Range(11.5, 19);
    double crp = rng_.Range(40, 160);
    plan.admission_labs = {{kLabWbc, wbc},
                           {kLabCrp, crp},
                           {kLabProcalcitonin, rng_.Range(0.3, 3.5)},
                           {kLabHemoglobin, HemoglobinAt(plan.start)}};
    if (dm_) plan.admission_labs.push_back({kLabFastingGlucose, GlucoseAt(plan.start)});
    plan.discharge_labs = {{kLabWbc, rng_.Range(5, 8.5)}, {kLabCrp, rng_.Range(3, 12)}};
    plan.admission_procs = {plan.from_emergency ? kProcChestCt : kProcChestXray};
    plan.meds = {kDrugCeftriaxone, kDrugAmbroxol};
    if (age_ >= 65 || copd_) plan.meds.push_back(kDrugLevofloxacin);
    plan.admission_vitals = {.temp = rng_.Range(38.3, 39.5),
                             .spo2 = rng_.Int(91, 95),
                             .rr = rng_.Int(20, 26),
                             .hr = rng_.Int(95, 115)};
    if (plan.from_emergency) {
      EmergencyThenAdmit(plan, {{kLabWbc, wbc}, {kLabCrp, crp}}, {kProcChestXray}, {},
                         plan.admission_vitals);
    } else {
      Inpatient(plan);
    }
  }

  void Appendicitis() {
    int64_t day = FreeDay(8, history_start_, ctx_.ref_day - 10);
    if (day < 0) return;
    InpatientPlan plan;
    plan.dept = kDeptGeneralSurgery;
    plan.from_emergency = true;
    plan.start = day * kDay + rng_.Int(0, 1439);
    plan.los_days = rng_.Int(3, 5);
    plan.complaint_dur = Duration(kDxAppendicitis);
    plan.conds = {
        NewCondition(kDxAppendicitis, plan.start - plan.complaint_dur * kHour, plan.start + 30)};
    double wbc = rng_.Range(12, 18);
    double crp = rng_.Range(15, 90);
    plan.admission_labs = {{kLabHemoglobin, HemoglobinAt(plan.start)},
                           {kLabPlatelets, NormalLab(kLabPlatelets)},
                           {kLabPotassium, NormalLab(kLabPotassium)}};
    plan.discharge_labs = {{kLabWbc, rng_.Range(5, 9)}, {kLabCrp, rng_.Range(5, 20)}};
    plan.admission_procs = {kProcLapAppendectomy};
    plan.meds = {kDrugCeftriaxone, kDrugMetronidazole};
    VitalMods ed_vitals{.temp = rng_.Range(37.4, 38.4), .hr = rng_.Int(88, 108)};
    plan.admission_vitals = ed_vitals;
    EmergencyThenAdmit(plan, {{kLabWbc, wbc}, {kLabCrp, crp}},
                       {rng_.Chance(0.6) ? kProcAbdominalCt : kProcAbdominalUltrasound}, {},
                       ed_vitals);
  }

  void Cholecystitis() {
    int64_t day = FreeDay(40, history_start_, ctx_.ref_day - 45);
    if (day < 0) return;
    int dur = Duration(kDxCholecystitis);
    VisitPlan v;
    v.dept = kDeptGeneralSurgery;
    v.start = ClinicTime(day);
    v.duration = rng_.Int(40, 90);
    int cond = NewCondition(kDxCholecystitis, v.start - DurationDays(DurUnit::kMonths, dur) * kDay,
                            v.start + 30);
    v.conds = {cond};
    v.complaint_dur = dur;
    v.labs = {{kLabAlt, rng_.Range(35, 90)}, {kLabWbc, rng_.Range(6, 11)}};
    v.procs = {kProcAbdominalUltrasound};
    v.disposition = "建议择期行腹腔镜胆囊切除术，预约入院。";
    Visit(v);

    InpatientPlan plan;
    plan.dept = kDeptGeneralSurgery;
    plan.start = ClinicTime(day + rng_.Int(7, 30));
    plan.los_days = rng_.Int(3, 6);
    plan.complaint_dur = dur;
    plan.conds = {cond};
    plan.admission_labs = {{kLabAlt, rng_.Range(30, 70)},
                           {kLabWbc, NormalLab(kLabWbc)},
                           {kLabHemoglobin, HemoglobinAt(plan.start)},
                           {kLabPlatelets, NormalLab(kLabPlatelets)}};
    plan.discharge_labs = {{kLabAlt, NormalLab(kLabAlt)}, {kLabWbc, NormalLab(kLabWbc)}};
    plan.day1_procs = {kProcLapCholecystectomy};
    plan.meds = {kDrugCefuroxime};
    Inpatient(plan);
  }

  void Stroke() {
    int64_t day = FreeDay(16, history_start_, ctx_.ref_day - 20);
    if (day < 0) return;
    InpatientPlan plan;
    plan.dept = kDeptNeurology;
    plan.from_emergency = true;
    plan.start = day * kDay + rng_.Int(0, 1439);
    plan.los_days = rng_.Int(8, 14);
    plan.complaint_dur = Duration(kDxCerebralInfarction);
    plan.conds = {NewCondition(kDxCerebralInfarction, plan.start - plan.complaint_dur * kHour,
                               plan.start + 30)};
    plan.admission_labs = {{kLabLdl, LdlAt(plan.start)},
                           {kLabCreatinine, CreatinineAt(plan.start)},
                           {kLabWbc, NormalLab(kLabWbc)}};
    plan.discharge_labs = {{kLabPotassium, NormalLab(kLabPotassium)}};
    plan.admission_procs = {kProcEchocardiography};
    plan.meds = {kDrugAspirin, kDrugAtorvastatin};
    if (rng_.Chance(0.5)) plan.meds.push_back(kDrugClopidogrel);
    plan.resolves = false;
    VitalMods ed_vitals{.sys = rng_.Int(160, 190), .dia = rng_.Int(92, 110)};
    plan.admission_vitals = ed_vitals;
    std::vector<Proc> ed_procs = {kProcHeadCt};
    std::vector<Drug> ed_meds;
    if (rng_.Chance(0.3)) {  // arrived within the thrombolysis window
      ed_procs.push_back(kProcThrombolysis);
      ed_meds.push_back(kDrugAlteplase);
    }
    EmergencyThenAdmit(
        plan,
        {{kLabFastingGlucose, GlucoseAt(plan.start)}, {kLabPlatelets, NormalLab(kLabPlatelets)}},
        ed_procs, ed_meds, ed_vitals);
  }

  void UpperRespiratoryInfection() {
    int64_t day = FreeDay(0, history_start_, ctx_.ref_day - 1);
    if (day < 0) return;
    VisitPlan v;
    v.dept = rng_.Chance(0.6) ? kDeptRespiratory : kDeptGeneralMedicine;
    v.start = ClinicTime(day);
    v.duration = rng_.Int(30, 70);
    v.complaint_dur = Duration(kDxUpperRespiratoryInfection);
    int cond =
        NewCondition(kDxUpperRespiratoryInfection, v.start - v.complaint_dur * kDay, v.start + 20);
    v.conds = {cond};
    v.labs = {{kLabWbc, rng_.Range(4.5, 9)}, {kLabCrp, rng_.Range(1, 9)}};
    v.meds = {kDrugParacetamol};
    v.vitals = {.temp = rng_.Range(37.5, 38.6)};
    int enc = Visit(v);
    Resolve(cond,
            std::min(p_.encounters[static_cast<size_t>(enc)].end + 5 * kDay, ctx_.ref_day * kDay));
  }

  void Gastroenteritis() {
    int64_t day = FreeDay(0, history_start_, ctx_.ref_day - 1);
    if (day < 0) return;
    VisitPlan v;
    bool er = rng_.Chance(0.3);
    v.cls = er ? EncClass::kEmergency : EncClass::kAmbulatory;
    v.dept = er ? kDeptEmergency : kDeptGastroenterology;
    v.start = er ? day * kDay + rng_.Int(0, 1439) : ClinicTime(day);
    v.duration = er ? rng_.Int(120, 240) : rng_.Int(30, 70);
    v.complaint_dur = Duration(kDxGastroenteritis);
    int cond = NewCondition(kDxGastroenteritis, v.start - v.complaint_dur * kHour, v.start + 20);
    v.conds = {cond};
    v.labs = {{kLabWbc, rng_.Range(6, 12)},
              {kLabPotassium, rng_.Range(3.3, 4.3)},
              {kLabSodium, NormalLab(kLabSodium)}};
    v.meds = {kDrugMontmorillonite};
    int enc = Visit(v);
    Resolve(cond,
            std::min(p_.encounters[static_cast<size_t>(enc)].end + 3 * kDay, ctx_.ref_day * kDay));
  }

  void HealthCheck(int64_t day) {
    if (day < 0) day = ctx_.ref_day - 1;
    VisitPlan v;
    v.dept = kDeptGeneralMedicine;
    v.start = ClinicTime(day);
    v.duration = rng_.Int(60, 150);
    int cond = NewCondition(kDxHealthCheck, v.start, v.start + 10);
    v.conds = {cond};
    for (Lab lab : {kLabFastingGlucose, kLabTotalCholesterol, kLabLdl, kLabAlt, kLabCreatinine,
                    kLabHemoglobin, kLabWbc, kLabPlatelets}) {
      v.labs.push_back({lab, NormalLab(lab)});
    }
    v.procs = {kProcEcg, kProcChestXray};
    v.vitals.anthro = true;
    int enc = Visit(v);
    Resolve(cond, p_.encounters[static_cast<size_t>(enc)].end);
  }

  // --------------------------------------------------- encounter builders

  int Visit(const VisitPlan& v) {
    int e = NewEncounter(v.cls, v.dept, v.start, v.start + v.duration, false);
    EncounterRecord& enc = p_.encounters[static_cast<size_t>(e)];
    enc.conditions = v.conds;
    if (v.cls == EncClass::kEmergency) AddComorbidities(enc, v.start);
    AttachConditions(e);
    enc.vitals.push_back(Vitals(v.start + rng_.Int(3, 10), v.vitals));
    int64_t lab_time = v.start + rng_.Int(10, 20);
    for (const auto& [lab, value] : v.labs) AddLab(enc, lab, value, lab_time);
    int64_t proc_time = v.start + rng_.Int(15, 25);
    for (Proc proc : v.procs) enc.procs.push_back({proc, proc_time, v.conds.front()});
    for (Drug drug : v.meds) enc.meds.push_back({drug, enc.end - 10, v.conds.front(), false});
    VisitNote(enc, v);
    return e;
  }

  // The emergency visit that precedes an admission; it shares the admission's
  // primary condition and hands over at its end.
  void EmergencyThenAdmit(InpatientPlan& plan, const LabList& ed_labs,
                          const std::vector<Proc>& ed_procs, const std::vector<Drug>& ed_meds,
                          const VitalMods& ed_vitals) {
    VisitPlan v;
    v.cls = EncClass::kEmergency;
    v.dept = kDeptEmergency;
    v.start = plan.start;
    v.duration = rng_.Int(90, 240);
    v.conds = {plan.conds.front()};
    v.labs = ed_labs;
    v.procs = ed_procs;
    v.meds = ed_meds;
    v.vitals = ed_vitals;
    v.complaint_dur = plan.complaint_dur;
    v.disposition = std::string("收入") + kDepts[plan.dept].name + "住院治疗。";
    int e = Visit(v);
    plan.start = p_.encounters[static_cast<size_t>(e)].end;
    plan.from_emergency = true;
    Inpatient(plan);
  }

  int Inpatient(const InpatientPlan& plan) {
    const int64_t start_day = DayOf(plan.start);
    const int64_t end_day = start_day + plan.los_days;
    const int64_t end = end_day * kDay + 9 * kHour + rng_.Int(0, 180);
    int e = NewEncounter(EncClass::kInpatient, plan.dept, plan.start, end, plan.from_emergency);
    EncounterRecord& enc = p_.encounters[static_cast<size_t>(e)];
    enc.conditions = plan.conds;
    AddComorbidities(enc, plan.start);
    AttachConditions(e);
    busy_.push_back({start_day, end_day});
    const int primary = plan.conds.front();

    VitalMods adm_vitals = plan.admission_vitals;
    adm_vitals.anthro = true;
    enc.vitals.push_back(Vitals(plan.start + 30, adm_vitals));
    int64_t lab_time = plan.start + 60;
    for (const auto& [lab, value] : plan.admission_labs) AddLab(enc, lab, value, lab_time);
    const size_t admission_lab_count = enc.labs.size();
    for (size_t i = 0; i < plan.admission_procs.size(); ++i) {
      enc.procs.push_back(
          {plan.admission_procs[i], plan.start + 90 + static_cast<int64_t>(i) * 20, primary});
    }
    const size_t admission_proc_count = enc.procs.size();
    for (Drug drug : plan.meds) enc.meds.push_back({drug, plan.start + 100, primary, false});
    // Chronic treatment continues during the stay.
    for (size_t i = 1; i < enc.conditions.size(); ++i) {
      int c = enc.conditions[i];
      Drug drug;
      if (ChronicDrug(p_.conditions[static_cast<size_t>(c)].dx, drug) && !HasDrug(enc, drug)) {
        enc.meds.push_back({drug, plan.start + 100, c, false});
      }
    }

    const int64_t admission_note_time = plan.start + 150;
    AdmissionNote(enc, plan, admission_note_time, admission_lab_count, admission_proc_count);

    // Day 1: scheduled procedures and the first progress note.
    const int64_t day1 = (start_day + 1) * kDay;
    for (size_t i = 0; i < plan.day1_procs.size(); ++i) {
      enc.procs.push_back(
          {plan.day1_procs[i], day1 + 9 * kHour + static_cast<int64_t>(i) * 40, primary});
    }
    enc.vitals.push_back(Vitals(day1 + 8 * kHour, MidStay(plan.admission_vitals)));
    ProgressNote(enc, plan, day1 + 16 * kHour, 2, enc.vitals.back(), admission_lab_count,
                 admission_lab_count, admission_proc_count, enc.procs.size());

    // The day before discharge: repeat labs and the second progress note.
    const int64_t pre = (end_day - 1) * kDay;
    size_t repeat_from = enc.labs.size();
    for (const auto& [lab, value] : plan.discharge_labs) AddLab(enc, lab, value, pre + 7 * kHour);
    enc.vitals.push_back(Vitals(pre + 8 * kHour, plan.discharge_vitals));
    ProgressNote(enc, plan, pre + 10 * kHour, static_cast<int>(end_day - start_day),
                 enc.vitals.back(), repeat_from, enc.labs.size(), enc.procs.size(),
                 enc.procs.size());

    DischargeSummary(enc, plan, end - 30, repeat_from);
    if (plan.resolves) Resolve(primary, end);
    return e;
  }

  static bool HasDrug(const EncounterRecord& enc, Drug drug) {
    return std::any_of(enc.meds.begin(), enc.meds.end(),
                       [&](const MedOrder& m) { return m.drug == drug; });
  }

  bool ChronicDrug(Dx dx, Drug& drug) const {
    switch (dx) {
      case kDxDiabetes:
        drug = Ckd4() ? kDrugInsulinGlargine : kDrugMetformin;
        return true;
      case kDxHypertension:
        drug = kDrugAmlodipine;
        return true;
      case kDxHyperlipidemia:
        drug = kDrugAtorvastatin;
        return true;
      case kDxHeartFailure:
        drug = kDrugFurosemide;
        return true;
      case kDxCopd:
        drug = kDrugTiotropium;
        return true;
      case kDxIronDeficiencyAnemia:
        drug = kDrugFerrousSuccinate;
        return true;
      default:
        return false;
    }
  }

  // Chronic conditions already on record join emergency and inpatient
  // encounters as secondary diagnoses.
  void AddComorbidities(EncounterRecord& enc, int64_t t) {
    for (const Chronic& c : chronic_) {
      if (!c.has || c.first_visit >= t) continue;
      if (std::find(enc.conditions.begin(), enc.conditions.end(), c.cond) != enc.conditions.end())
        continue;
      enc.conditions.push_back(c.cond);
    }
  }

  void AttachConditions(int e) {
    for (int c : p_.encounters[static_cast<size_t>(e)].conditions) {
      ConditionRecord& cond = p_.conditions[static_cast<size_t>(c)];
      if (cond.encounter < 0) cond.encounter = e;
    }
  }

  // ------------------------------------------------------------- notes

  void AppendHeader(std::string& s, const EncounterRecord& enc, NoteType type,
                    const char* time_label, int64_t time) {
    s += kNoteTypes[type].title;
    s += "\n姓名：";
    s += p_.family;
    s += p_.given;
    s += "　性别：";
    s += SexText(p_.sex);
    s += "　年龄：";
    AppendInt(s, AgeYears(p_.birth_day, DayOf(enc.start)));
    s += "岁\n科室：";
    s += kDepts[enc.dept].name;
    s += "　";
    s += time_label;
    s += "：";
    AppendChineseDateTime(s, time);
    s += '\n';
  }

  void AppendPastHistory(std::string& s, int64_t t, int exclude) {
    s += "既往史：";
    bool any = false;
    for (size_t i = 0; i < p_.conditions.size(); ++i) {
      const ConditionRecord& c = p_.conditions[i];
      if (static_cast<int>(i) == exclude) continue;
      bool chronic = kDxs[c.dx].chronic;
      bool major = c.dx == kDxMyocardialInfarction || c.dx == kDxCerebralInfarction ||
                   c.dx == kDxAppendicitis || c.dx == kDxCholecystitis;
      if (!(chronic && c.onset < t) && !(major && c.recorded < t)) continue;
      if (chronic && c.recorded > t) continue;  // not yet known to this hospital
      if (any) s += "；";
      any = true;
      s += kDxs[c.dx].display;
      s += "病史";
      if (chronic) {
        int64_t days = DayOf(t) - DayOf(c.onset);
        if (days >= 365) {
          AppendInt(s, days / 365);
          s += "年";
        } else {
          AppendInt(s, std::max<int64_t>(1, days / 30));
          s += "个月";
        }
      }
    }
    if (!any) s += "否认高血压、糖尿病、冠心病等慢性病史";
    s += "。否认药物过敏史。\n";
  }

  void AppendDoctor(std::string& s, const EncounterRecord& enc) {
    const Person& doc = ctx_.doctors[enc.dept][static_cast<size_t>(enc.practitioner)];
    s += "医师：";
    s += doc.family;
    s += doc.given;
    s += '\n';
  }

  void VisitNote(EncounterRecord& enc, const VisitPlan& v) {
    NoteType type = v.cls == EncClass::kEmergency ? kNoteEmergency : kNoteOutpatient;
    const int primary = v.conds.front();
    const Dx dx = p_.conditions[static_cast<size_t>(primary)].dx;
    const DxText& tx = kDxTexts[dx];
    std::string s;
    s.reserve(1200);
    AppendHeader(s, enc, type, "就诊时间", enc.start);
    s += "主诉：";
    if (v.followup) {
      s += kDxs[dx].display;
      s += "复诊。\n现病史：";
      s += tx.followup;
    } else {
      s += tx.complaint;
      AppendDuration(s, tx.dur_unit, v.complaint_dur);
      s += "。\n现病史：";
      s += tx.hpi;
    }
    s += '\n';
    AppendPastHistory(s, enc.start, primary);
    s += "体格检查：";
    AppendVitals(s, enc.vitals.front());
    s += "。\n";
    if (!enc.labs.empty() || !enc.procs.empty()) {
      s += "辅助检查：";
      AppendLabs(s, p_.sex, enc.labs);
      if (!enc.procs.empty()) {
        if (!enc.labs.empty()) s += "；";
        s += "已行";
        AppendProcs(s, enc.procs);
      }
      s += "。\n";
    }
    s += "诊断：";
    AppendDiagnoses(s, p_, enc.conditions);
    s += "\n处理：";
    if (!enc.meds.empty()) {
      AppendDrugs(s, enc.meds);
      s += "。";
    }
    s += v.disposition.empty() ? tx.advice : v.disposition;
    s += '\n';
    AppendDoctor(s, enc);
    enc.notes.push_back({type, enc.end - 5, std::move(s)});
  }

  void AdmissionNote(EncounterRecord& enc, const InpatientPlan& plan, int64_t time,
                     size_t lab_count, size_t proc_count) {
    const int primary = plan.conds.front();
    const Dx dx = p_.conditions[static_cast<size_t>(primary)].dx;
    const DxText& tx = kDxTexts[dx];
    std::string s;
    s.reserve(1500);
    AppendHeader(s, enc, kNoteAdmission, "入院时间", enc.start);
    s += "主诉：";
    s += tx.complaint;
    AppendDuration(s, tx.dur_unit, plan.complaint_dur);
    s += "。\n现病史：";
    s += tx.hpi;
    s += plan.from_emergency ? "急诊就诊后" : "门诊就诊后";
    s += "拟“";
    s += kDxs[dx].display;
    s += "”收入我科。\n";
    AppendPastHistory(s, enc.start, primary);
    s += "体格检查：";
    AppendVitals(s, enc.vitals.front());
    s += "。\n";
    if (lab_count > 0) {
      s += "辅助检查：";
      AppendLabs(s, p_.sex, std::span(enc.labs).first(lab_count));
      s += "。\n";
    }
    s += "初步诊断：";
    AppendDiagnoses(s, p_, enc.conditions);
    s += "\n诊疗计划：予";
    AppendDrugs(s, enc.meds);
    s += "治疗";
    if (proc_count > 0) {
      s += "；行";
      AppendProcs(s, std::span(enc.procs).first(proc_count));
    }
    if (!plan.day1_procs.empty()) {
      s += "；拟次日行";
      for (size_t i = 0; i < plan.day1_procs.size(); ++i) {
        if (i > 0) s += "、";
        s += kProcs[plan.day1_procs[i]].name;
      }
    }
    s += "。\n";
    AppendDoctor(s, enc);
    enc.notes.push_back({kNoteAdmission, time, std::move(s)});
  }

  void ProgressNote(EncounterRecord& enc, const InpatientPlan& plan, int64_t time, int hospital_day,
                    const VitalSigns& vitals, size_t labs_from, size_t labs_to, size_t procs_from,
                    size_t procs_to) {
    const Dx dx = p_.conditions[static_cast<size_t>(plan.conds.front())].dx;
    std::string s;
    s.reserve(1000);
    AppendHeader(s, enc, kNoteProgress, "记录时间", time);
    s += "住院第";
    AppendInt(s, hospital_day);
    s += "天。";
    s += kDxTexts[dx].course;
    s += "\n查体：";
    AppendVitals(s, vitals);
    s += "。\n";
    if (procs_to > procs_from) {
      s += "今日行";
      AppendProcs(s, std::span(enc.procs).subspan(procs_from, procs_to - procs_from));
      s += "，过程顺利。\n";
    }
    if (labs_to > labs_from) {
      s += "复查：";
      AppendLabs(s, p_.sex, std::span(enc.labs).subspan(labs_from, labs_to - labs_from));
      s += "。\n";
    }
    s += "目前诊断：";
    AppendDiagnoses(s, p_, enc.conditions);
    s += "\n处理：继续";
    AppendDrugs(s, enc.meds);
    s += "治疗。\n";
    AppendDoctor(s, enc);
    enc.notes.push_back({kNoteProgress, time, std::move(s)});
  }

  void DischargeSummary(EncounterRecord& enc, const InpatientPlan& plan, int64_t time,
                        size_t repeat_from) {
    const Dx dx = p_.conditions[static_cast<size_t>(plan.conds.front())].dx;
    const DxText& tx = kDxTexts[dx];
    std::string s;
    s.reserve(1500);
    AppendHeader(s, enc, kNoteDischarge, "出院时间", enc.end);
    s += "入院时间：";
    AppendChineseDateTime(s, enc.start);
    s += "　住院天数：";
    AppendInt(s, plan.los_days);
    s += "天\n入院诊断：";
    s += kDxs[dx].display;
    s += "\n出院诊断：";
    AppendDiagnoses(s, p_, enc.conditions);
    s += "\n入院情况：";
    s += tx.complaint;
    AppendDuration(s, tx.dur_unit, plan.complaint_dur);
    s += "。";
    s += tx.hpi;
    s += "\n诊疗经过：";
    if (!enc.procs.empty()) {
      s += "住院期间行";
      AppendProcs(s, enc.procs);
      s += "；";
    }
    s += "予";
    AppendDrugs(s, enc.meds);
    s += "治疗。";
    s += tx.course;
    s += '\n';
    if (repeat_from < enc.labs.size()) {
      s += "出院前复查：";
      AppendLabs(s, p_.sex, std::span(enc.labs).subspan(repeat_from));
      s += "。\n";
    }
    s += "出院情况：";
    s += tx.discharge;
    s += "\n出院医嘱：";
    bool any = false;
    uint64_t seen = 0;
    for (const MedOrder& m : enc.meds) {
      if (!kDrugs[m.drug].chronic || (seen & (uint64_t{1} << m.drug))) continue;
      seen |= uint64_t{1} << m.drug;
      s += any ? "；" : "继续";
      any = true;
      AppendDrug(s, m.drug);
    }
    if (any) s += "。";
    s += tx.advice;
    s += '\n';
    AppendDoctor(s, enc);
    enc.notes.push_back({kNoteDischarge, time, std::move(s)});
  }

  // ---------------------------------------------------------- primitives

  int NewCondition(Dx dx, int64_t onset, int64_t recorded) {
    p_.conditions.push_back({dx, onset, recorded, -1, kNever});
    return static_cast<int>(p_.conditions.size()) - 1;
  }

  void Resolve(int cond, int64_t when) { p_.conditions[static_cast<size_t>(cond)].abated = when; }

  int NewEncounter(EncClass cls, Dept dept, int64_t start, int64_t end, bool from_emergency) {
    EncounterRecord& enc = p_.encounters.emplace_back();
    enc.cls = cls;
    enc.dept = dept;
    enc.start = start;
    enc.end = end;
    enc.practitioner = static_cast<int>(rng_.Below(kDoctorsPerDept));
    enc.from_emergency = from_emergency;
    return static_cast<int>(p_.encounters.size()) - 1;
  }

  void AddLab(EncounterRecord& enc, Lab lab, double value, int64_t t) {
    const MeasureDef& def = kLabs[lab];
    double v = Round(value, def.decimals);
    double smallest =
        def.decimals == 0 ? 1 : (def.decimals == 1 ? 0.1 : (def.decimals == 2 ? 0.01 : 0.001));
    enc.labs.push_back({lab, std::max(v, smallest), t});
  }

  // A value inside the sex-specific reference interval.
  double NormalLab(Lab lab) {
    const MeasureDef& def = kLabs[lab];
    double low = male_ ? def.low_m : def.low_f;
    double high = male_ ? def.high_m : def.high_f;
    if (def.has_low && def.has_high) return low + (high - low) * rng_.Range(0.15, 0.85);
    if (def.has_high) return high * rng_.Range(0.1, 0.7);
    return low + rng_.Range(2, 30);
  }

  double CreatinineFromEgfr(double egfr) const {
    // Inverse proportionality is the core of every creatinine-based eGFR
    // equation; the constants give ~88 (men) / ~68 (women) umol/L at 90.
    return (male_ ? 7950.0 : 6100.0) / egfr;
  }

  double EgfrAt(int64_t t) const {
    if (t <= egfr_.front().first) return egfr_.front().second;
    for (size_t i = 1; i < egfr_.size(); ++i) {
      if (t <= egfr_[i].first) {
        const auto& [t0, e0] = egfr_[i - 1];
        const auto& [t1, e1] = egfr_[i];
        return e0 + (e1 - e0) * static_cast<double>(t - t0) / static_cast<double>(t1 - t0);
      }
    }
    return egfr_.back().second;
  }

  double CreatinineAt(int64_t t) {
    if (ckd_) return CreatinineFromEgfr(EgfrAt(t));
    return NormalLab(kLabCreatinine);
  }

  double GlucoseAt(int64_t t) {
    if (dm_ && chronic_[kDxDiabetes].first_visit <= t) return rng_.Range(7.2, 11.5);
    return NormalLab(kLabFastingGlucose);
  }

  double LdlAt(int64_t t) {
    if (hl_ && chronic_[kDxHyperlipidemia].first_visit <= t) return rng_.Range(2.6, 3.9);
    if (hl_) return rng_.Range(3.7, 5.0);
    return NormalLab(kLabLdl);
  }

  double HemoglobinAt(int64_t t) {
    if (ckd_)
      return ckd4_ ? rng_.Range(88, 108) : (male_ ? rng_.Range(106, 128) : rng_.Range(100, 118));
    if (ida_ && t < chronic_[kDxIronDeficiencyAnemia].last_visit) {
      return male_ ? rng_.Range(90, 118) : rng_.Range(80, 108);
    }
    return NormalLab(kLabHemoglobin);
  }

  VitalSigns Vitals(int64_t t, const VitalMods& m) {
    VitalSigns v{};
    v.time = t;
    if (m.sys != 0) {
      v.systolic = m.sys;
      v.diastolic = m.dia;
    } else if (htn_) {
      bool untreated = t <= chronic_[kDxHypertension].first_visit + kHour;
      v.systolic = untreated ? rng_.Int(148, 176) : rng_.Int(122, 150);
      v.diastolic = untreated ? rng_.Int(90, 104) : rng_.Int(74, 94);
    } else {
      v.systolic = rng_.Int(102, 134);
      v.diastolic = rng_.Int(62, 84);
    }
    v.heart_rate = m.hr != 0 ? m.hr : rng_.Int(62, 92);
    v.resp_rate = m.rr != 0 ? m.rr : rng_.Int(14, 19);
    v.temperature = Round(m.temp != 0 ? m.temp : rng_.Range(36.2, 37.1), 1);
    v.spo2 = m.spo2 != 0 ? m.spo2 : (copd_ ? rng_.Int(92, 96) : rng_.Int(96, 99));
    v.anthropometrics = m.anthro;
    v.height = p_.height_cm;
    v.weight = Round(p_.weight_kg + rng_.Normal(0, 0.8), 1);
    return v;
  }

  // Halfway between the admission state and normal.
  VitalMods MidStay(const VitalMods& a) {
    VitalMods m;
    if (a.temp != 0) m.temp = (a.temp + rng_.Range(36.5, 37.2)) / 2;
    if (a.spo2 != 0) m.spo2 = (a.spo2 + 97) / 2;
    if (a.rr != 0) m.rr = (a.rr + 18) / 2;
    if (a.hr != 0) m.hr = (a.hr + 80) / 2;
    return m;
  }

  int64_t ClinicTime(int64_t day) { return day * kDay + 8 * kHour + rng_.Int(0, 540); }

  static int64_t DurationDays(DurUnit unit, int amount) {
    switch (unit) {
      case DurUnit::kMonths:
        return amount * 30;
      case DurUnit::kYears:
        return amount * 365;
      case DurUnit::kDays:
        return amount;
      default:
        return 0;
    }
  }

  int Duration(Dx dx) {
    const DxText& tx = kDxTexts[dx];
    return rng_.Int(tx.dur_lo, tx.dur_hi);
  }

  // A day in [lo, hi] such that [day - 1, day + span] overlaps no admission
  // or planned visit; -1 if none was found in a few tries.
  int64_t FreeDay(int span, int64_t lo, int64_t hi) {
    lo = std::max(lo, history_start_);
    if (hi < lo) lo = hi;
    for (int attempt = 0; attempt < 8; ++attempt) {
      int64_t day = lo + static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(hi - lo + 1)));
      bool clash =
          std::any_of(busy_.begin(), busy_.end(), [&](const std::pair<int64_t, int64_t>& b) {
            return day - 1 <= b.second && day + span >= b.first;
          });
      if (!clash) {
        busy_.push_back({day, day + span});
        return day;
      }
    }
    return -1;
  }

  // ------------------------------------------------------------- finish

  void Finish() {
    // Only the latest order of a long-term drug is still active.
    std::array<int64_t, kDrugCount> last;
    last.fill(-1);
    for (const EncounterRecord& enc : p_.encounters) {
      for (const MedOrder& m : enc.meds) last[m.drug] = std::max(last[m.drug], m.time);
    }
    for (EncounterRecord& enc : p_.encounters) {
      for (MedOrder& m : enc.meds) m.active = kDrugs[m.drug].chronic && m.time == last[m.drug];
    }
    const size_t n = p_.encounters.size();
    p_.encounter_order.resize(n);
    std::iota(p_.encounter_order.begin(), p_.encounter_order.end(), 0);
    std::stable_sort(p_.encounter_order.begin(), p_.encounter_order.end(), [&](int a, int b) {
      return p_.encounters[static_cast<size_t>(a)].start <
             p_.encounters[static_cast<size_t>(b)].start;
    });
    p_.encounter_rank.assign(n, 0);
    for (size_t i = 0; i < n; ++i)
      p_.encounter_rank[static_cast<size_t>(p_.encounter_order[i])] = static_cast<int>(i);
    std::vector<int> order(p_.conditions.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return p_.encounter_rank[static_cast<size_t>(
                 p_.conditions[static_cast<size_t>(a)].encounter)] <
             p_.encounter_rank[static_cast<size_t>(
                 p_.conditions[static_cast<size_t>(b)].encounter)];
    });
    p_.condition_rank.assign(order.size(), 0);
    for (size_t i = 0; i < order.size(); ++i)
      p_.condition_rank[static_cast<size_t>(order[i])] = static_cast<int>(i);
  }

  const Context& ctx_;
  PatientRecord& p_;
  Rng rng_;
  int age_ = 0;
  bool male_ = true;
  int64_t history_start_ = 0;
  bool htn_ = false, dm_ = false, hl_ = false, ckd_ = false, ckd4_ = false, hf_ = false,
       copd_ = false, ida_ = false;
  std::array<Chronic, kDxCount> chronic_{};
  std::vector<std::pair<int64_t, double>> egfr_;   // (minute, eGFR) at CKD visits
  std::vector<std::pair<int64_t, int64_t>> busy_;  // occupied day ranges
};

}  // namespace

void BuildPatient(const Context& ctx, uint64_t index, PatientRecord& out) {
  Builder(ctx, index, out).Build();
}

}  // namespace haip::synth
