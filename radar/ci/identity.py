"""Which Gerrit accounts are CI systems, and which system each belongs to.

An account is a CI only because of who it is, never because of what it
writes: it is configured in [ci] accounts, is a member of the [ci] group,
or its name matches [ci] discover_pattern. A human who votes Verified or
pastes "Build failed." stays a human.
"""

import re


def _norm(value):
    return value.strip().lower() if value else None


class Identity:
    def __init__(self, conf, group_members=()):
        self._configured = {}  # account identifier (lowercased) -> system name or None
        for entry in conf.ci.accounts:
            name, sep, account = entry.partition("=")
            if sep:
                self._configured[_norm(account)] = name.strip()
            else:
                self._configured[_norm(entry)] = None
        self._ignored = {_norm(a) for a in conf.ci.ignore_accounts}
        pattern = conf.ci.discover_pattern
        self._pattern = re.compile(pattern) if pattern else None
        self._group = set()
        self.set_group_members(group_members)
        self.reference_names = {_norm(n) for n in conf.ci.reference_systems}

    def set_group_members(self, members):
        """Members of the configured Gerrit group (AccountRef objects)."""
        self._group = set()
        for member in members:
            self._group.update(self._identifiers(member))

    @staticmethod
    def _identifiers(account):
        ids = {_norm(account.username), _norm(account.email), _norm(account.name)}
        if account.gerrit_id is not None:
            ids.add(str(account.gerrit_id))
        ids.discard(None)
        return ids

    def system_name(self, account):
        """The CI system name for `account` (an AccountRef), or None for a human."""
        if account is None:
            return None
        ids = self._identifiers(account)
        if ids & self._ignored:
            return None
        display = account.name or account.username or account.email
        for ident in ids:
            if ident in self._configured:
                return self._configured[ident] or display
        if ids & self._group:
            return display
        if self._pattern is not None:
            for text in (account.name, account.username):
                if text and self._pattern.search(text):
                    return display
        return None

    def origin(self, account):
        ids = self._identifiers(account)
        if any(i in self._configured for i in ids):
            return "config"
        if ids & self._group:
            return "group"
        return "pattern"

    def is_reference(self, system_name):
        return _norm(system_name) in self.reference_names
