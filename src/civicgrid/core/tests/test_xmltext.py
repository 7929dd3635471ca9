"""What XML 1.0 cannot carry is dropped; everything it can is kept as it is."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from civicgrid.core.xmltext import xml_safe, xml_safe_cells


def test_control_characters_surrogates_and_non_characters_are_dropped_and_the_rest_kept():
    kept = "井盖\t缺失\n第2行\r€\U0001F600 <&>"
    assert xml_safe(kept) == kept
    assert xml_safe("a\x00b\x01c\x08d\x0be\x0cf\x1fg\ud800h\udfffi\ufffej\uffffk") == "abcdefghijk"


def test_every_character_xml_safe_lets_through_can_be_written_and_read_back():
    every = "".join(chr(c) for c in range(0x10000))
    el = ET.Element("t")
    el.text = xml_safe(every)
    assert ET.fromstring(ET.tostring(el, encoding="utf-8")).text.replace("\r", "\n") == el.text.replace("\r", "\n")


def test_only_text_cells_change():
    assert xml_safe_cells(["a\x01", 3, None, 1.5]) == ["a", 3, None, 1.5]
