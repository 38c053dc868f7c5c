"""The JSON parser of every service: numbers with a fraction are read as Decimal, never as
float, and no body can make parsing itself fail with a 500.

With the stock parser ``{"price": 19.999999999999999999}`` becomes the float 20.0 and is
accepted as "20.00"; read as Decimal it keeps all its digits and the 2-places rule refuses it.
NaN and Infinity stay refused (DRF's strict constants), so does a body that is not JSON; a
body nested deeper than Python's recursion limit is a 400, not a RecursionError.
"""
from __future__ import annotations

import codecs
from decimal import Decimal

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            return json.load(decoded_stream, parse_float=Decimal, parse_constant=json.strict_constant)
        except ValueError as exc:  # also UnicodeDecodeError, and ints longer than Python allows
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:  # absurdly deep nesting: a bad body, not a server fault
            raise ParseError("JSON parse error - nested too deeply") from exc
