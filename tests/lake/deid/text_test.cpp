// Free-text scrubbing, one identifier kind at a time.
#include <gtest/gtest.h>

#include <string>

#include "lake/deid/deid.h"

namespace haip::lake::deid {
namespace {

constexpr char kKey[] = "0123456789abcdef-test-key";

DeidProfile TestProfile() {
  DeidProfile p;
  p.reference_date = "2025-06-30";
  return p;
}

class ScrubTextTest : public ::testing::Test {
 protected:
  Deidentifier deid_{kKey, TestProfile()};
  std::string Scrub(std::string_view text) { return deid_.ScrubText(text, nullptr); }
  std::string ScrubFor(std::string_view text, const PatientContext& ctx) {
    return deid_.ScrubText(text, &ctx);
  }
};

TEST_F(ScrubTextTest, LabelledNamesIncludingCompoundSurnames) {
  EXPECT_EQ(Scrub("姓名：林勇辉　性别：男"), "姓名：[姓名]　性别：男");
  EXPECT_EQ(Scrub("姓名：欧阳明辉\n"), "姓名：[姓名]\n");
  EXPECT_EQ(Scrub("医师：司马懿"), "医师：[姓名]");
  EXPECT_EQ(Scrub("联系人: 诸葛亮，"), "联系人: [姓名]，");
  EXPECT_EQ(Scrub("医师签名：上官婉儿 2024"), "医师签名：[姓名] 2024");
  EXPECT_EQ(Scrub("姓名：阿卜杜拉·买买提提"), "姓名：[姓名]");
}

TEST_F(ScrubTextTest, HonorificsKeepTheTitle) {
  EXPECT_EQ(Scrub("患者张先生今日复诊"), "患者[姓名]先生今日复诊");
  EXPECT_EQ(Scrub("请李女士签字"), "请[姓名]女士签字");
  EXPECT_EQ(Scrub("由王医生接诊"), "由[姓名]医生接诊");
  EXPECT_EQ(Scrub("欧阳医生查房"), "[姓名]医生查房");
  EXPECT_EQ(Scrub("家属陈先生陪同"), "家属[姓名]先生陪同");
  EXPECT_EQ(Scrub("李明辉主任医师查房"), "[姓名]主任医师查房");
  // Titles whose last character is a surname are not names.
  EXPECT_EQ(Scrub("副主任医师查房，责任护士宣教，主管医生签字"),
            "副主任医师查房，责任护士宣教，主管医生签字");
}

TEST_F(ScrubTextTest, UnlabelledNamesFromTheSurnameDictionary) {
  EXPECT_EQ(Scrub("今日与王建国讨论病情"), "今日与[姓名]讨论病情");
  EXPECT_EQ(Scrub("转交司徒娜处理"), "转交[姓名]处理");
  // Clinical words that start with a surname character stay.
  EXPECT_EQ(Scrub("高血压病史3年，白细胞计数正常，患者安静休息"),
            "高血压病史3年，白细胞计数正常，患者安静休息");
}

TEST_F(ScrubTextTest, KnownNamesOfThePatient) {
  PatientContext ctx = deid_.ContextFor("p1");
  ctx.names = {"罗飞", "飞扬"};
  EXPECT_EQ(ScrubFor("罗飞诉头痛，飞扬同意", ctx), "[姓名]诉头痛，[姓名]同意");
}

TEST_F(ScrubTextTest, ResidentIdNumbers) {
  EXPECT_EQ(Scrub("身份证 11010519491231002X。"), "身份证 [身份证号]。");
  EXPECT_EQ(Scrub("证件11010519491231002x，"), "证件[身份证号]，");
  EXPECT_EQ(Scrub("ID 130102199210066891"), "ID [身份证号]");
  EXPECT_EQ(Scrub("旧证130102921006689"), "旧证[身份证号]");
  EXPECT_EQ(Scrub("身份证号：130102199210066891"), "身份证号：[身份证号]");
}

TEST_F(ScrubTextTest, MobileAndLandlineVariants) {
  for (const char* phone : {"13812345678", "+86 138 1234 5678", "+8613812345678",
                            "+86-138-1234-5678", "0086 13812345678", "138-1234-5678",
                            "138 1234 5678", "(+86)13812345678", "86-13812345678"}) {
    EXPECT_EQ(Scrub(std::string("电话") + phone + "。"), "电话[电话]。") << phone;
    EXPECT_EQ(Scrub(std::string("请拨打 ") + phone), "请拨打 [电话]") << phone;
  }
  for (const char* phone : {"010-12345678", "0771-1234567", "(0771)12345678", "0755 87654321",
                            "+86 10 12345678", "400-123-4567"}) {
    EXPECT_EQ(Scrub(std::string("座机 ") + phone + "，"), "座机 [电话]，") << phone;
  }
}

TEST_F(ScrubTextTest, EmailUrlIpAndRecordNumbers) {
  EXPECT_EQ(Scrub("邮箱 zhang.san@hospital.cn。"), "邮箱 [邮箱]。");
  EXPECT_EQ(Scrub("发送至12345678@qq.com"), "发送至[邮箱]");
  EXPECT_EQ(Scrub("见 https://pacs.example.org/study?id=1 。"), "见 [网址] 。");
  EXPECT_EQ(Scrub("主机 192.168.1.20 异常"), "主机 [IP] 异常");
  EXPECT_EQ(Scrub("病案号：MR0000000001"), "病案号：[病案号]");
  EXPECT_EQ(Scrub("病案号MR0000000001"), "病案号[病案号]");
  EXPECT_EQ(Scrub("住院号 ZY2024001"), "住院号 [病案号]");
  EXPECT_EQ(Scrub("医保卡号：A1234567"), "医保卡号：[医保号]");
  EXPECT_EQ(Scrub("编码 88776655443"), "编码 [号码]");
}

TEST_F(ScrubTextTest, AddressesKeepOnlyTheProvince) {
  EXPECT_EQ(Scrub("家住广西壮族自治区南宁市青秀区长江路234号碧水湾16栋4单元1003室，步行来院"),
            "家住广西壮族自治区[地址]，步行来院");
  EXPECT_EQ(Scrub("现住址：北京市海淀区学府路12号"), "现住址：北京市[地址]");
  EXPECT_EQ(Scrub("住人民路128号阳光花园3栋"), "住[地址]");
  EXPECT_EQ(Scrub("消化道出血3天"), "消化道出血3天");
}

TEST_F(ScrubTextTest, AgesOverTheCapAreGrouped) {
  EXPECT_EQ(Scrub("年龄：95岁"), "年龄：≥90岁");
  EXPECT_EQ(Scrub("102周岁"), "≥90周岁");
  EXPECT_EQ(Scrub("年龄：89岁"), "年龄：89岁");
}

TEST_F(ScrubTextTest, DatesInTextAreShiftedByThePatientShift) {
  PatientContext ctx = deid_.ContextFor("p1");
  ctx.shift_days = 10;
  EXPECT_EQ(ScrubFor("2024年3月5日", ctx), "2024年3月15日");
  EXPECT_EQ(ScrubFor("就诊时间：2024年03月25日 09:30", ctx), "就诊时间：2024年04月04日 09:30");
  EXPECT_EQ(ScrubFor("2024-12-25T08:00:00+08:00", ctx), "2025-01-04T08:00:00+08:00");
  EXPECT_EQ(ScrubFor("2024/2/25", ctx), "2024/3/6");
  EXPECT_EQ(ScrubFor("2024.02.25", ctx), "2024.03.06");
  EXPECT_EQ(ScrubFor("于20240305手术", ctx), "于20240315手术");
  EXPECT_EQ(ScrubFor("3月5日复查", ctx), "3月15日复查");
  EXPECT_EQ(ScrubFor("2024年3月起", ctx), "2024年3月起");  // 15th + 10 stays in March
  EXPECT_EQ(ScrubFor("2024-01", ctx), "2024-01");
  ctx.shift_days = -20;
  EXPECT_EQ(ScrubFor("2024年3月5日", ctx), "2024年2月14日");
  EXPECT_EQ(ScrubFor("2024年3月", ctx), "2024年2月");
  // Without a patient context there is no shift: the date stays.
  EXPECT_EQ(Scrub("2024年3月5日"), "2024年3月5日");
}

TEST_F(ScrubTextTest, ClinicalTextSurvives) {
  const std::string text =
      "体格检查：T 36.9℃，P 79次/分，R 19次/分，BP 112/79mmHg，SpO2 99%。\n"
      "辅助检查：白细胞计数 6.78×10⁹/L，血钾 3.31mmol/L（↓），HbA1c 9.8%。\n"
      "处理：二甲双胍 0.5g 口服 每日三次；阿托伐他汀 20mg 口服 每晚一次。A10BA02\n"
      "诊断：1. 2型糖尿病　2. 原发性高血压\n";
  EXPECT_EQ(Scrub(text), text);
}

}  // namespace
}  // namespace haip::lake::deid
