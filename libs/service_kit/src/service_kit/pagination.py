"""Pages of a listing: ``?page=`` and ``?page_size=`` are checked like any other input.

DRF's own pagination quietly reads ``?page_size=abc`` or ``-5`` as the default size and
``?page=last`` as the last page; a client then gets an answer to a question it did not ask. Here a
value that is not a positive whole number (in range, for the size) is a 400; a page past the end
stays DRF's 404.
"""
from __future__ import annotations

import re

from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination

_WHOLE_NUMBER = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)


class InvalidPageParameter(exceptions.ValidationError):
    default_code = "invalid"


class StrictPageNumberPagination(PageNumberPagination):
    def _whole_number(self, request, name: str, maximum: int | None = None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not _WHOLE_NUMBER.fullmatch(raw) or (maximum is not None and int(raw) > maximum):
            bound = f" up to {maximum}" if maximum is not None else ""
            raise InvalidPageParameter({name: [f"A whole number from 1{bound}."]})
        return int(raw)

    def get_page_number(self, request, paginator):
        return self._whole_number(request, self.page_query_param) or 1

    def get_page_size(self, request):
        size = None
        if self.page_size_query_param:
            size = self._whole_number(request, self.page_size_query_param, self.max_page_size)
        return size or self.page_size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema = parameter["schema"]
            schema.update(minimum=1, maximum=10**18 - 1)
            if parameter["name"] == self.page_size_query_param and self.max_page_size:
                schema["maximum"] = self.max_page_size
        return parameters
