"""Delivery channels: e-mail (SMTP), chat and push (apprise), each behind the small `Channel` protocol with its
transport injected, plus the optional TL;DR per paper. Files and feeds are written by the digest service."""

from paperscope.delivery.base import Channel, DigestMessage, SendResult
from paperscope.delivery.recipients import Recipient

__all__ = ["Channel", "DigestMessage", "Recipient", "SendResult"]
