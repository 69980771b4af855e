"""The bundled demo shop that the demo command, the examples and the tests run agents against."""

from lanterna.demo.site import CONTACT_EMAIL, CONTACT_PHONE, DemoSite

__all__ = ["CONTACT_EMAIL", "CONTACT_PHONE", "DemoSite"]
