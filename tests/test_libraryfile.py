"""Reading a researcher's own library files: BibTeX, Zotero CSV and RDF, plain lists."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from paperscope.errors import InputError
from paperscope.libraryfile import LibraryItem, parse_library, read_library

HERE = Path(__file__).parent / "fixtures" / "libraryfile"


def ids(lib) -> list[str | None]:
    return [i.arxiv_id for i in lib.items]


# --- BibTeX ----------------------------------------------------------------------------------------


def test_zotero_bibtex_export_reads_ids_dois_titles_and_urldate():
    lib = read_library(HERE / "zotero_export.bib")
    assert lib.format == "bibtex"
    assert lib.problems == []
    assert lib.items == [
        LibraryItem("2604.04050", None, "TORA: Topological Representation Alignment for 3D Shape Assembly",
                    date(2026, 4, 9), 2),
        LibraryItem("2603.02701", None, "Graph-GRPO: Stabilizing Multi-Agent Topology Learning via Group Relative "
                    "Policy Optimization", date(2026, 3, 5), 17),
        LibraryItem("0704.0001", "10.1103/physrevd.76.013009", "Calculation of prompt diphoton production cross "
                    "sections at Tevatron and LHC energies", date(2025, 11, 20), 31),
        LibraryItem("cond-mat/0412498", "10.1103/physrevb.71.184511",
                    "Thermal melting of density waves on the square lattice", date(2025, 12, 2), 47),
        LibraryItem(None, "10.1145/3395363.3397376", "Active fuzzing for testing and securing cyber-physical systems",
                    date(2026, 1, 14), 62),
    ]


def test_mixed_bibtex_sources_and_bad_entries_are_problems_not_errors():
    lib = read_library(HERE / "mixed_sources.bib")
    name = str(HERE / "mixed_sources.bib")
    assert ids(lib) == ["2606.17289", "2005.14124", "astro-ph/0601001", "1412.6529", None, "2507.19718", "2510.19678"]
    by_id = {i.arxiv_id or i.doi: i for i in lib.items}
    # Google Scholar: only `journal = {arXiv preprint arXiv:...}` and a year, so the year stands in for "added".
    assert by_id["2606.17289"].added == date(2026, 1, 1)
    # DBLP: eprinttype/eprint, and its RFC 2822 timestamp.
    assert by_id["2005.14124"].added == date(2020, 6, 2)
    # BibDesk: @string macro, versioned old-style eprint, Date-Added wins over year/month.
    assert by_id["astro-ph/0601001"].added == date(2025, 9, 30)
    assert by_id["astro-ph/0601001"].title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert by_id["1412.6529"].added == date(2026, 2, 11)  # JabRef creationdate
    assert by_id["10.1007/978-3-540-74126-8_23"].added == date(2007, 9, 1)  # month = sep macro
    assert by_id["2507.19718"].added == date(2025, 7, 1)  # month = "7"
    assert by_id["2510.19678"].added == date(2025, 10, 24)  # timestamp = {2025.10.24}
    assert lib.problems == [
        f"{name}:70: entry 'broken2026': expected '=' after field 'author'; skipped",
        f"{name}:74: entry 'emptyentry' has no arXiv id, DOI or title; skipped",
        f"{name}:95: duplicate of line 8 (2606.17289); skipped",
    ]


def test_unclosed_entry_is_an_input_error_naming_file_line_and_key():
    with pytest.raises(InputError, match=r"unclosed\.bib:7: entry 'cang_graph-grpo_2026' has no closing brace$"):
        read_library(HERE / "unclosed.bib")


def test_bibtex_titles_become_plain_text():
    lib = parse_library(r"@article{k, title = {Bal{\'a}zs and {\v{S}}r{\'a}mek \& friends: 100\% {GPU}s, "
                        r"\textit{in vivo} \{set\}}, eprint = {arXiv:2604.04050v2}}", "r.bib")
    assert lib.items[0].title == "Balázs and Šrámek & friends: 100% GPUs, in vivo {set}"
    assert lib.items[0].arxiv_id == "2604.04050"


def test_bibtex_parenthesised_entry_quotes_and_concatenation():
    text = ('@string(venue = "ICCE-TW")\n'
            '@misc(hirose2026,\n'
            '  title = "Privacy-Preserving " # {Semantic Segmentation} # " without Key Management",\n'
            '  note = "Accepted to " # venue, eprint = {2604.16523}, archivePrefix = {arXiv})\n')
    lib = parse_library(text, "r.bib")
    assert lib.items == [LibraryItem("2604.16523", None, "Privacy-Preserving Semantic Segmentation without Key "
                                     "Management", None, 2)]
    assert lib.problems == []


def test_bibtex_eprint_that_is_not_an_arxiv_id_is_reported_but_the_doi_kept():
    text = "@article{x,\n title={T}, eprint={PMC123}, archivePrefix={arXiv}, doi={10.1103/PhysRevB.91.184507}\n}"
    lib = parse_library(text, "r.bib")
    assert lib.items[0].doi == "10.1103/physrevb.91.184507" and lib.items[0].arxiv_id is None
    assert lib.problems == ["r.bib:1: entry 'x': eprint 'PMC123' is not an arXiv id"]


def test_bibtex_eprint_of_another_archive_is_ignored():
    lib = parse_library("@article{x, title={T}, eprint={12345678}, eprinttype={pubmed}}", "r.bib")
    assert lib.items[0].arxiv_id is None and lib.problems == []


def test_entry_without_key_is_a_problem():
    lib = parse_library("@misc{title = {No key}, eprint = {2604.04050}}\n@misc{ok, eprint = {2603.02701}}", "r.bib")
    assert ids(lib) == ["2603.02701"]
    assert lib.problems[0].startswith("r.bib:1: entry without a citation key")


def test_crlf_and_bom_give_the_same_items_and_lines(tmp_path):
    raw = (HERE / "zotero_export.bib").read_bytes()
    crlf = tmp_path / "refs.bib"
    crlf.write_bytes(b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n"))
    assert read_library(crlf).items == read_library(HERE / "zotero_export.bib").items


def test_utf16_and_latin1_files(tmp_path):
    text = "@misc{a, title = {Balázs}, eprint = {0704.0001}}\n"
    utf16 = tmp_path / "u16.bib"
    utf16.write_text(text, encoding="utf-16")
    assert read_library(utf16).items[0].title == "Balázs"
    latin = tmp_path / "latin.bib"
    latin.write_bytes(text.encode("latin-1"))
    lib = read_library(latin)
    assert lib.items[0].title == "Balázs"
    assert lib.problems == [f"{latin}:1: not UTF-8; read as Latin-1"]


# --- Zotero CSV ----------------------------------------------------------------------------------


def test_zotero_csv_export():
    lib = read_library(HERE / "zotero_export.csv")
    assert lib.format == "zotero-csv"
    # Attachment and note rows are not papers; multi-line abstracts and Extra keep line numbers right.
    assert [(i.arxiv_id, i.doi, i.source_line) for i in lib.items] == [
        ("2604.04050", None, 2),
        ("0704.0001", "10.1103/physrevd.76.013009", 4),  # arXiv id only in Extra ("arXiv: 0704.0001")
        (None, "10.1145/3395363.3397376", 6),
        ("2606.17289", None, 7),  # Extra with a second line
        ("cond-mat/0412498", "10.1103/physrevb.71.184511", 11),  # versioned old-style arXiv Url
    ]
    assert lib.items[0].added == date(2026, 4, 9)
    assert lib.items[0].title == "TORA: Topological Representation Alignment for 3D Shape Assembly"
    assert lib.problems == [f"{HERE / 'zotero_export.csv'}:10: item 'Q9XW4L1P' has no arXiv id, DOI or title; skipped"]


def test_other_csv_with_title_and_doi_columns():
    lib = parse_library("Title,DOI,URL,Date Added\r\nTORA,,https://arxiv.org/abs/2604.04050v1,2026-04-09\r\n"
                        "Active fuzzing,10.1145/3395363.3397376,,\r\n", "m.csv")
    assert lib.format == "csv"
    assert lib.items == [LibraryItem("2604.04050", None, "TORA", date(2026, 4, 9), 2),
                         LibraryItem(None, "10.1145/3395363.3397376", "Active fuzzing", None, 3)]


def test_broken_csv_names_the_row_where_the_quote_opened():
    with pytest.raises(InputError, match=r"^m\.csv:3: broken CSV row"):
        parse_library('Title,DOI,Url\nA,,\n"B,10.1145/3395363.3397376,\nC,,\n', "m.csv")


# --- Zotero RDF ----------------------------------------------------------------------------------


def test_zotero_rdf_export():
    lib = read_library(HERE / "zotero_export.rdf")
    assert lib.format == "zotero-rdf"
    assert lib.items == [
        LibraryItem("2604.04050", None, "TORA: Topological Representation Alignment for 3D Shape Assembly",
                    date(2026, 4, 9), 10),
        # The DOI sits on the journal node the article points at (dcterms:isPartOf rdf:resource).
        LibraryItem("cond-mat/0412498", "10.1103/physrevb.71.184511",
                    "Thermal melting of density waves on the square lattice", date(2025, 12, 2), 59),
        # ... or on a journal node nested inline.
        LibraryItem(None, "10.1063/1.2779138", "A limit relation for entropy and channel capacity per unit cost",
                    date(2026, 2, 28), 91),
    ]
    # The attachment's PDF link (2603.02701) and the note's arXiv id are not library items.
    assert lib.problems == [f"{HERE / 'zotero_export.rdf'}:107: webpage item has no arXiv id, DOI or title; skipped"]


def test_malformed_rdf_names_the_line():
    text = (HERE / "zotero_export.rdf").read_text().replace("</dc:title>", "</dc:titel>", 1)
    with pytest.raises(InputError, match=r"^lib\.rdf:33: not well-formed XML \(mismatched tag\)$"):
        parse_library(text, "lib.rdf")


def test_rdf_with_a_dtd_or_without_rdf_root_is_refused():
    with pytest.raises(InputError, match="DOCTYPE is not allowed"):
        parse_library('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<x>&a;</x>', "lib.rdf")
    with pytest.raises(InputError, match=r"^lib\.rdf:1: XML but not RDF"):
        parse_library("<feed><entry/></feed>", "lib.rdf")


# --- plain lists ---------------------------------------------------------------------------------


def test_plain_list():
    lib = read_library(HERE / "reading_list.txt")
    assert lib.format == "list"
    assert [(i.arxiv_id, i.doi, i.source_line) for i in lib.items] == [
        ("2604.04050", None, 2),
        ("2603.02701", None, 3),
        ("2606.17289", None, 4),
        ("2510.19678", None, 5),
        ("2507.19718", None, 6),
        ("0704.0046", None, 7),
        ("cond-mat/0412498", None, 8),
        ("astro-ph/0601001", None, 9),
        (None, "10.1103/physrevd.76.013009", 10),
        (None, "10.1145/3395363.3397376", 11),
        ("1412.6529", None, 12),  # arXiv's own DOI is an arXiv id
    ]
    name = HERE / "reading_list.txt"
    assert lib.problems == [
        f"{name}:14: not an arXiv id, arXiv URL or DOI: 'the one about fuzzing, find it later'",
        f"{name}:15: duplicate of line 2 (2604.04050); skipped",
    ]


def test_text_that_is_no_library_file_is_an_input_error():
    with pytest.raises(InputError, match=r"^notes\.txt:2: not a library file"):
        parse_library("# my notes\nbuy milk\nread more papers\n", "notes.txt")


def test_empty_file_and_missing_file(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n")
    assert read_library(empty).problems == [f"{empty}: no entries"]
    with pytest.raises(InputError, match=r"nope\.bib: no such file$"):
        read_library(tmp_path / "nope.bib")


def test_a_bibtex_year_0000_gives_no_date_instead_of_a_traceback():
    lib = parse_library("@misc{a, title={T}, eprint={2501.00001}, archivePrefix={arXiv}, year={0000}, month=jan}\n")
    assert [(i.arxiv_id, i.added) for i in lib.items] == [("2501.00001", None)]


def test_a_zotero_csv_year_0000_gives_no_date_instead_of_a_traceback():
    text = ('"Key","Item Type","Publication Year","Title","DOI","Url","Date Added"\n'
            '"K1","preprint","0000","T","","https://arxiv.org/abs/2501.00001","0000-00-00 00:00:00"\n')
    lib = parse_library(text, "z.csv")
    assert lib.format == "zotero-csv" and [(i.arxiv_id, i.added) for i in lib.items] == [("2501.00001", None)]


def test_utf16_with_an_odd_byte_count_is_an_input_error(tmp_path: Path):
    path = tmp_path / "lib.txt"
    path.write_bytes("2501.00001\n".encode("utf-16") + b"\x00")  # one byte short of a whole code unit
    with pytest.raises(InputError, match=r"lib.txt: UTF-16 text that cannot be decoded at byte"):
        read_library(path)
