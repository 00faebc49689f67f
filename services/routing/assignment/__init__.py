"""Where a case goes: the routing rules picking a unit, and the member of the unit who gets it."""
