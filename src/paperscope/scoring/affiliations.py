"""Short tags for institutions (pku, cmu, mila), for author cards. Pure functions, no I/O.

`affiliation_tag` prefers what the source says (an acronym, a ROR id), then a built-in table of
institutions common in machine-learning papers, then the initials of the name's significant words.
"""

from __future__ import annotations

import re
from functools import lru_cache

from paperscope.scoring.names import ascii_fold

__all__ = ["INSTITUTIONS", "affiliation_tag", "normalise_institution"]

# (tag, ROR id or "", name variants). Variants written in capitals (MIT, CMU, FAIR) are acronyms:
# they match only as a whole word in the same capitals, so German "mit" or "fair use" do not.
# The ROR ids are those OpenAlex reports for these institutions in the recorded responses.
INSTITUTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # China
    ("pku", "", ("Peking University", "PKU", "Beijing University")),
    ("thu", "", ("Tsinghua University", "THU")),
    ("zju", "", ("Zhejiang University", "ZJU")),
    ("sjtu", "", ("Shanghai Jiao Tong University", "Shanghai Jiaotong University", "SJTU")),
    ("fudan", "", ("Fudan University",)),
    ("ustc", "", ("University of Science and Technology of China", "USTC")),
    ("nju", "", ("Nanjing University",)),
    ("hit", "", ("Harbin Institute of Technology",)),
    ("buaa", "", ("Beihang University", "Beijing University of Aeronautics and Astronautics", "BUAA")),
    ("ucas", "", ("University of Chinese Academy of Sciences", "UCAS")),
    ("cas", "", ("Chinese Academy of Sciences", "CAS")),
    ("ruc", "", ("Renmin University of China",)),
    ("sysu", "", ("Sun Yat-sen University", "Sun Yat sen University", "SYSU")),
    ("hust", "", ("Huazhong University of Science and Technology", "HUST")),
    ("whu", "", ("Wuhan University",)),
    ("xjtu", "", ("Xi'an Jiaotong University", "Xian Jiaotong University", "XJTU")),
    ("bupt", "", ("Beijing University of Posts and Telecommunications", "BUPT")),
    ("shailab", "", ("Shanghai AI Laboratory", "Shanghai Artificial Intelligence Laboratory", "Shanghai AI Lab")),
    ("hku", "", ("University of Hong Kong", "HKU")),
    ("cuhk", "", ("Chinese University of Hong Kong", "CUHK")),
    ("hkust", "", ("Hong Kong University of Science and Technology", "HKUST")),
    ("polyu", "", ("Hong Kong Polytechnic University", "PolyU")),
    ("cityu", "", ("City University of Hong Kong", "CityU")),
    # Rest of Asia
    ("nus", "", ("National University of Singapore", "NUS")),
    ("ntu", "", ("Nanyang Technological University",)),
    ("ntu-tw", "", ("National Taiwan University",)),
    ("kaist", "", ("Korea Advanced Institute of Science and Technology", "KAIST")),
    ("snu", "", ("Seoul National University", "SNU")),
    ("postech", "", ("Pohang University of Science and Technology", "POSTECH")),
    ("utokyo", "", ("University of Tokyo", "UTokyo")),
    ("kyoto", "", ("Kyoto University",)),
    ("riken", "", ("RIKEN",)),
    ("iisc", "", ("Indian Institute of Science", "IISc")),
    ("iitb", "", ("Indian Institute of Technology Bombay", "IIT Bombay")),
    ("iitd", "", ("Indian Institute of Technology Delhi", "IIT Delhi")),
    ("iitm", "", ("Indian Institute of Technology Madras", "IIT Madras")),
    ("iitk", "", ("Indian Institute of Technology Kanpur", "IIT Kanpur")),
    ("technion", "", ("Technion", "Technion Israel Institute of Technology")),
    ("tau", "", ("Tel Aviv University",)),
    ("weizmann", "", ("Weizmann Institute of Science",)),
    ("huji", "", ("Hebrew University of Jerusalem",)),
    # North America
    ("cmu", "", ("Carnegie Mellon University", "CMU")),
    ("mit", "", ("Massachusetts Institute of Technology", "MIT")),
    ("stanford", "", ("Stanford University",)),
    ("berkeley", "01an7q238", ("University of California, Berkeley", "UC Berkeley", "Berkeley")),
    ("ucla", "046rm7j60", ("University of California, Los Angeles", "UCLA")),
    ("ucsd", "0168r3w48", ("University of California, San Diego", "UC San Diego", "UCSD")),
    ("uci", "04gyf1771", ("University of California, Irvine", "UC Irvine")),
    ("ucsb", "", ("University of California, Santa Barbara", "UC Santa Barbara", "UCSB")),
    ("lbnl", "", ("Lawrence Berkeley National Laboratory",)),
    ("harvard", "03vek6s52", ("Harvard University",)),
    ("yale", "03v76x132", ("Yale University",)),
    ("princeton", "", ("Princeton University",)),
    ("columbia", "", ("Columbia University",)),
    ("cornell", "", ("Cornell University",)),
    ("nyu", "0190ak572", ("New York University", "NYU")),
    ("caltech", "", ("California Institute of Technology", "Caltech")),
    ("gatech", "", ("Georgia Institute of Technology", "Georgia Tech")),
    ("uw", "", ("University of Washington",)),
    ("uiuc", "047426m28", (
        "University of Illinois Urbana-Champaign", "University of Illinois at Urbana-Champaign", "UIUC",
    )),
    ("umich", "", ("University of Michigan",)),
    ("utaustin", "", ("University of Texas at Austin", "UT Austin")),
    ("umd", "", ("University of Maryland", "University of Maryland, College Park")),
    ("jhu", "", ("Johns Hopkins University", "JHU")),
    ("upenn", "", ("University of Pennsylvania", "UPenn")),
    ("uchicago", "", ("University of Chicago",)),
    ("ttic", "", ("Toyota Technological Institute at Chicago", "TTIC")),
    ("usc", "03taz7m60", ("University of Southern California", "USC")),
    ("wisc", "", ("University of Wisconsin-Madison", "University of Wisconsin Madison")),
    ("uoft", "", ("University of Toronto", "UofT")),
    ("vector", "03kqdja62", ("Vector Institute", "Vector Institute for Artificial Intelligence")),
    ("mila", "", (
        "Mila", "Mila - Quebec AI Institute", "Mila Quebec Artificial Intelligence Institute",
        "Montreal Institute for Learning Algorithms", "Quebec Artificial Intelligence Institute",
    )),
    ("udem", "", ("Université de Montréal", "University of Montreal")),
    ("mcgill", "", ("McGill University",)),
    ("ubc", "", ("University of British Columbia", "UBC")),
    ("uwaterloo", "", ("University of Waterloo",)),
    ("ualberta", "", ("University of Alberta",)),
    # Europe
    ("oxford", "052gg0110", ("University of Oxford", "Oxford University")),
    ("cambridge", "", ("University of Cambridge", "Cambridge University")),
    ("ucl", "", ("University College London", "UCL")),
    ("imperial", "041kmwe10", ("Imperial College London", "Imperial College")),
    ("edinburgh", "", ("University of Edinburgh",)),
    ("ethz", "", (
        "ETH Zurich", "ETH Zürich", "ETHZ", "Swiss Federal Institute of Technology Zurich",
        "Eidgenössische Technische Hochschule Zürich",
    )),
    ("epfl", "", (
        "EPFL", "École Polytechnique Fédérale de Lausanne", "Swiss Federal Institute of Technology Lausanne",
    )),
    ("tum", "", ("Technical University of Munich", "Technische Universität München", "TUM")),
    ("lmu", "", ("LMU Munich", "Ludwig Maximilian University of Munich", "Ludwig-Maximilians-Universität München")),
    ("tuebingen", "", ("University of Tübingen", "Universität Tübingen", "Eberhard Karls Universität Tübingen")),
    ("mpi-is", "", ("Max Planck Institute for Intelligent Systems",)),
    ("mpi-inf", "", ("Max Planck Institute for Informatics",)),
    ("rwth", "04xfq0f34", ("RWTH Aachen University", "RWTH Aachen")),
    ("uva", "", ("University of Amsterdam",)),
    ("kuleuven", "", ("KU Leuven", "Katholieke Universiteit Leuven")),
    ("inria", "02kvxyf05", ("Inria", "INRIA", "French Institute for Research in Computer Science and Automation")),
    ("cnrs", "02feahw73", ("CNRS", "French National Centre for Scientific Research", "Centre National de la Recherche Scientifique")),
    ("ens", "", ("École Normale Supérieure", "Ecole Normale Superieure")),
    ("upsaclay", "03xjwb503", ("University of Paris-Saclay", "Université Paris-Saclay")),
    # Australia
    ("unimelb", "", ("University of Melbourne",)),
    ("usyd", "", ("University of Sydney",)),
    ("anu", "", ("Australian National University", "ANU")),
    ("monash", "", ("Monash University",)),
    ("unsw", "", ("University of New South Wales", "UNSW Sydney", "UNSW")),
    # Companies and institutes
    ("deepmind", "", ("Google DeepMind", "DeepMind")),
    ("google", "", ("Google", "Google Research", "Google Brain", "Google LLC")),
    ("fair", "", ("Facebook AI Research", "FAIR", "Meta AI Research", "Meta FAIR")),
    ("meta", "", ("Meta", "Meta AI", "Meta Platforms", "Facebook", "Meta Reality Labs")),
    ("msra", "", ("Microsoft Research Asia", "MSRA")),
    ("msr", "", ("Microsoft Research", "MSR")),
    ("microsoft", "", ("Microsoft", "Microsoft Corporation")),
    ("openai", "", ("OpenAI",)),
    ("anthropic", "", ("Anthropic",)),
    ("nvidia", "", ("NVIDIA", "Nvidia", "NVIDIA Research", "NVIDIA Corporation")),
    ("apple", "", ("Apple", "Apple Inc")),
    ("amazon", "", ("Amazon", "Amazon Web Services", "AWS AI Labs", "Amazon Science")),
    ("ibm", "", ("IBM Research", "IBM", "IBM T. J. Watson Research Center")),
    ("ai2", "", ("Allen Institute for AI", "Allen Institute for Artificial Intelligence", "AI2")),
    ("alibaba", "", ("Alibaba Group", "Alibaba", "DAMO Academy", "Alibaba DAMO Academy")),
    ("tencent", "", ("Tencent", "Tencent AI Lab")),
    ("bytedance", "", ("ByteDance", "ByteDance Seed")),
    ("baidu", "", ("Baidu", "Baidu Research")),
    ("huawei", "", ("Huawei", "Huawei Noah's Ark Lab", "Huawei Technologies")),
    ("samsung", "", ("Samsung", "Samsung Research")),
    ("sensetime", "", ("SenseTime", "SenseTime Research")),
)

_STOPWORDS = {
    "of", "the", "for", "and", "in", "at", "on", "de", "des", "du", "la", "le", "les", "di", "del",
    "della", "der", "die", "das", "und", "fur", "y", "e", "et", "da", "do", "dos", "van", "von",
    "a", "an", "&", "mit", "zu", "am", "im",
}


def normalise_institution(name: str) -> str:
    """Lowercase ASCII words only: 'ETH Zürich' -> 'eth zurich', 'The University of X' -> 'university of x'."""
    s = ascii_fold(name).replace("&", " and ").replace("'", "")
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    return re.sub(r"^the ", "", s)


def _is_acronym(variant: str) -> bool:
    return bool(re.fullmatch(r"[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*", variant)) and variant.upper() == variant


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str, int]]]:
    by_ror: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str, int]] = []
    for tag, ror, variants in INSTITUTIONS:
        if ror:
            by_ror[ror.lower()] = tag
        for v in variants:
            if _is_acronym(v):
                # Acronyms: whole word, exact capitals, in the raw text.
                patterns.append((re.compile(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])"), tag, len(v)))
            else:
                norm = normalise_institution(v)
                patterns.append((re.compile(rf"(?:^| ){re.escape(norm)}(?: |$)"), tag, len(norm)))
    return by_ror, patterns


def _ror_id(ror: str) -> str:
    # OpenAlex has been seen to double the prefix: "https://ror.org/https://ror.org/01ppj9r51".
    return ror.strip().rstrip("/").rsplit("/", 1)[-1].lower()


def _from_table(name: str) -> str | None:
    _, patterns = _tables()
    norm = normalise_institution(name)
    hits: list[tuple[int, int, str]] = []
    for pattern, tag, length in patterns:
        # Acronym patterns search the raw name; the others the normalised one.
        m = pattern.search(name) if pattern.pattern.startswith("(?<!") else pattern.search(norm)
        if m:
            # Position in the normalised text orders hits; raw positions are close enough for acronyms.
            hits.append((m.start(), -length, tag))
    if not hits:
        return None
    # The earliest mention wins ("Mila, Université de Montréal" -> mila); at one position the
    # longest variant wins ("Google DeepMind" over "Google").
    return min(hits)[2]


def _initials(name: str) -> str:
    name = re.sub(r"\([^)]*\)", " ", name)  # "Bloomberg (United States)"
    s = re.sub(r"\b[dl]'", " ", ascii_fold(name))  # "d'Abomey-Calavi": the elided article goes
    words = [w for w in re.split(r"[^a-z0-9]+", s.replace("'", "")) if w]
    significant = [w for w in words if w not in _STOPWORDS]
    if not significant:
        return ""
    if len(significant) == 1:
        return significant[0][:12]
    return "".join(w[0] for w in significant)[:8]


def affiliation_tag(name: str, acronym: str | None = None, ror: str | None = None) -> str:
    """A short lowercase tag for an institution: 'Carnegie Mellon University' -> 'cmu'.

    The acronym wins when given, then a ROR id known to the built-in table, then the table's name
    variants (also found inside longer strings such as 'Dept. of CS, Stanford University'), then
    the initials of the significant words ('University of Foo Bar' -> 'ufb').
    """
    if acronym and (tag := re.sub(r"[^a-z0-9\-]", "", ascii_fold(acronym))):
        return tag
    if ror:
        by_ror, _ = _tables()
        if (known := by_ror.get(_ror_id(ror))) is not None:
            return known
    if not name or not name.strip():
        return ""
    return _from_table(name) or _initials(name)
