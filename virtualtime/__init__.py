"""Virtual time: venues and the code under test share one clock that costs nothing while they wait."""
