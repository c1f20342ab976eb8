"""One Atom 1.0 feed (RFC 4287) per digest section, so a feed reader can follow a topic."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import paperscope
from paperscope.render.model import Digest, DigestSection, abs_url, clean_text, pdf_url, rfc3339, section_slugs, xml_text
from paperscope.models import utc

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
LABEL_SCHEME = "urn:paperscope:label"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    el.text = xml_text(text)
    return el


def _slug_of(section: DigestSection, digest: Digest) -> str:
    for s, slug in zip(digest.sections, section_slugs(digest), strict=True):
        if s is section:
            return slug
    # a section outside the digest: its slug as if it came last
    return section_slugs(Digest(digest.generated, [*digest.sections, section]))[-1]


def render_atom(
    section: DigestSection, digest: Digest, *, slug: str | None = None, feed_id_base: str = "urn:paperscope:topic:"
) -> str:
    """The section as an Atom feed, one entry per paper, in order.

    The feed id is `feed_id_base` + the section's unique slug (`section_slugs(digest)`, the same slug as its
    anchor, its `slug` in digest.json and its feed file name); pass `slug` when it is known.
    """
    slug = slug if slug is not None else _slug_of(section, digest)
    # Plain xmlns attributes (rather than ElementTree's global prefix registry) declare the namespaces.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xmlns:arxiv": ARXIV_SCHEME})
    _text(feed, "id", feed_id_base + slug)
    _text(feed, "title", f"{clean_text(digest.title)}: {clean_text(section.title)}", type="text")
    subtitle = section.note or (f"Query: {section.topic.query}" if section.topic else "")
    if subtitle:
        _text(feed, "subtitle", clean_text(subtitle), type="text")
    stamps: list[datetime] = [utc(p.updated) for p in section.papers]
    _text(feed, "updated", rfc3339(max(stamps) if stamps else utc(digest.generated)))
    # RFC 4287 wants an author on every entry; the feed-level one covers papers without authors.
    author = ET.SubElement(feed, "author")
    _text(author, "name", "paperscope")
    _text(feed, "generator", "paperscope", version=paperscope.__version__)
    for paper in section.papers:
        entry = ET.SubElement(feed, "entry")
        url = abs_url(paper)
        _text(entry, "id", url)
        _text(entry, "title", clean_text(paper.title), type="text")
        _text(entry, "updated", rfc3339(paper.updated))
        _text(entry, "published", rfc3339(paper.first_submitted))
        for name_ in paper.author_names:
            _text(ET.SubElement(entry, "author"), "name", clean_text(name_))
        _text(entry, "summary", clean_text(paper.abstract), type="text")
        ET.SubElement(entry, "link", {"href": url, "rel": "alternate", "type": "text/html"})
        ET.SubElement(
            entry, "link", {"href": pdf_url(paper), "rel": "related", "type": "application/pdf", "title": "pdf"}
        )
        for cat in paper.categories:
            ET.SubElement(entry, "category", {"term": clean_text(cat), "scheme": ARXIV_SCHEME})
        label = section.labels.get(paper.id)
        if label:
            ET.SubElement(entry, "category", {"term": clean_text(label), "scheme": LABEL_SCHEME})
        # arXiv's own extension elements, as its API feed has them
        if clean_text(paper.comment):
            _text(entry, "arxiv:comment", clean_text(paper.comment))
        if paper.primary_category:
            ET.SubElement(entry, "arxiv:primary_category", {"term": clean_text(paper.primary_category)})
    ET.indent(feed)
    return "<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(feed, encoding="unicode") + "\n"
