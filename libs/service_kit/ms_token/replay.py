"""STUB (to be built in issue 3): the replay store."""


class _NullStore:
    def ping(self) -> None:
        return None


def get_replay_store():
    return _NullStore()
