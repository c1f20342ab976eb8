"""One Atom 1.0 feed (RFC 4287) per digest section, so a feed reader can follow a topic."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import paperscope
from paperscope.render.model import Digest, DigestSection, one_line, pdf_url, rfc3339, slugify, xml_text
from paperscope.models import utc

ATOM_NS = "http://www.w3.org/2005/Atom"
ARXIV_SCHEME = "http://arxiv.org/schemas/atom"
LABEL_SCHEME = "urn:paperscope:label"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = xml_text(text)
    return el


def render_atom(section: DigestSection, digest: Digest, *, feed_id_base: str = "urn:paperscope:topic:") -> str:
    """The section as an Atom feed: id from the topic (or section) name, one entry per paper, in order."""
    name = section.topic.name if section.topic else section.title
    # Plain xmlns attributes (rather than ElementTree's global prefix registry) declare the namespaces.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xmlns:arxiv": ARXIV_SCHEME})
    _text(feed, "id", feed_id_base + slugify(name))
    _text(feed, "title", f"{digest.title}: {one_line(section.title)}", type="text")
    subtitle = section.note or (f"Query: {section.topic.query}" if section.topic else "")
    if subtitle:
        _text(feed, "subtitle", one_line(subtitle), type="text")
    stamps: list[datetime] = [utc(p.updated) for p in section.papers]
    _text(feed, "updated", rfc3339(max(stamps) if stamps else utc(digest.generated)))
    # RFC 4287 wants an author on every entry; the feed-level one covers papers without authors.
    author = ET.SubElement(feed, "author")
    _text(author, "name", "paperscope")
    _text(feed, "generator", "paperscope", version=paperscope.__version__)
    for paper in section.papers:
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", paper.abs_url)
        _text(entry, "title", one_line(paper.title), type="text")
        _text(entry, "updated", rfc3339(paper.updated))
        _text(entry, "published", rfc3339(paper.first_submitted))
        for name_ in paper.author_names:
            _text(ET.SubElement(entry, "author"), "name", one_line(name_))
        _text(entry, "summary", one_line(paper.abstract), type="text")
        ET.SubElement(entry, "link", {"href": paper.abs_url, "rel": "alternate", "type": "text/html"})
        ET.SubElement(
            entry, "link", {"href": pdf_url(paper), "rel": "related", "type": "application/pdf", "title": "pdf"}
        )
        for cat in paper.categories:
            ET.SubElement(entry, "category", {"term": xml_text(cat), "scheme": ARXIV_SCHEME})
        label = section.labels.get(paper.id)
        if label:
            ET.SubElement(entry, "category", {"term": xml_text(label), "scheme": LABEL_SCHEME})
        # arXiv's own extension elements, as its API feed has them
        if paper.comment.strip():
            _text(entry, "arxiv:comment", one_line(paper.comment))
        if paper.primary_category:
            ET.SubElement(entry, "arxiv:primary_category", {"term": xml_text(paper.primary_category)})
    ET.indent(feed)
    return "<?xml version='1.0' encoding='utf-8'?>\n" + ET.tostring(feed, encoding="unicode") + "\n"
