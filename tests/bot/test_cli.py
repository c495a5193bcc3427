"""``python -m bot`` as a user runs it: a separate process, on the wall clock, against a served venue."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from simulator.server import RunningVenue, serve_bybit


def config_for(venue: RunningVenue, tmp_path: Path) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f"""
[venue]
name = "bybit"
rest_url = "{venue.base_url}"
api_key_env = "TEST_BOT_KEY"
api_secret_env = "TEST_BOT_SECRET"

[intervals]
sync_s = 0.2

[[symbol]]
name = "GIGA/USDT:USDT"
max_qty = "1000"
""")
    return path


async def bot(venue: RunningVenue, *args: str) -> tuple[int, str, str]:
    proc = await start(venue, *args)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def start(venue: RunningVenue, *args: str) -> asyncio.subprocess.Process:
    env = {"TEST_BOT_KEY": venue.api_key, "TEST_BOT_SECRET": venue.api_secret, "PATH": ""}
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_open_status_and_close_from_the_command_line(tmp_path: Path) -> None:
    async with serve_bybit(seed=3) as venue:
        config = str(config_for(venue, tmp_path))
        account = venue.account.account_id

        code, out, err = await bot(venue, "open", "--config", config, "GIGA/USDT:USDT", "short", "920")
        assert code == 0, err
        assert out.startswith("intent hb") and out.rstrip().endswith(": open")
        assert venue.engine.position(account, "GIGAUSDT").size == -920

        code, out, _ = await bot(venue, "status", "--config", config)
        assert "position 1 GIGA/USDT:USDT short 920" in out and "stop 0.01989" in out

        code, out, err = await bot(venue, "close", "--config", config, "GIGA/USDT:USDT")
        assert code == 0, err
        assert venue.engine.position(account, "GIGAUSDT").size == 0


async def test_run_adopts_a_phantom_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with serve_bybit(seed=3) as venue:
        config = str(config_for(venue, tmp_path))
        outsider = venue.rest_client()
        await outsider.create_order("GIGA/USDT:USDT", "market", "sell", 920)

        proc = await start(venue, "run", "--config", config)
        assert proc.stdout is not None
        banner = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert banner.startswith("bot running against bybit")
        stops: list[dict] = []
        for _ in range(200):  # the first pass adopts and protects; wait for its stop, not for a time
            stops = await outsider.fetch_open_orders("GIGA/USDT:USDT", None, None, {"trigger": True})
            if stops:
                break
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
        err = (await proc.stderr.read()).decode() if proc.stderr else ""

    assert code == 0, err
    assert "bot stopped" in err
    assert [(s["side"], s["amount"], s["triggerPrice"]) for s in stops] == [("buy", 920.0, 0.01989)]
