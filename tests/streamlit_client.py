"""A student without a browser: one Streamlit session spoken to over its own protocol.

The load generator (tests/locust_hall.py) runs hundreds of these; the hall tests use one to check a
server. It does what Streamlit's browser client does, and no more:

* GET the page (through a proxy, that answer sets the affinity cookie, which every later request
  sends back), /_stcore/health and /_stcore/host-config;
* open the WebSocket /_stcore/stream (subprotocol "streamlit"; reconnecting sends the session id
  as the third subprotocol entry, as the browser does) and send a `BackMsg` `rerun_script` naming
  the page, as the browser's first message;
* read `ForwardMsg`s to the run's `script_finished`: the elements (buttons by label, with their
  widget ids), `auto_rerun` (a live fragment's id and interval), and any `/media/...` file the
  elements refer to, fetched like an `<img>` would;
* a click is a `rerun_script` whose widget states carry the button's trigger; a live frame is the
  browser's timer: a `rerun_script` with the fragment's id and `is_auto_rerun`.

Widget values the page already has are not sent again: Streamlit keeps a widget's last value for
a session when the browser leaves it out, so only the clicked trigger goes with a request.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import requests
import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

MEDIA = re.compile(rb"/media/[0-9a-f]{16,}\.[a-z0-9]{2,5}")
FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY: "full", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment",
            ForwardMsg.FINISHED_EARLY_FOR_RERUN: "early", ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error"}


class StreamlitError(RuntimeError):
    """The server answered with an exception element, closed the socket, or did not answer in time."""


@dataclass
class Run:
    """What one request's script run (or runs: a fragment that calls st.rerun() is followed by a
    full run) delivered."""
    kind: str = ""  # "full" or "fragment": how the last run finished
    deltas: int = 0  # elements and blocks delivered
    bytes: int = 0  # WebSocket payload bytes, media files included
    media: int = 0  # /media files fetched
    seconds: float = 0.0  # request sent -> last script_finished
    first_delta_seconds: float | None = None  # request sent -> first element on screen
    exceptions: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)  # st.metric label -> value, as drawn


class StreamlitSession:
    """One browser session of a Streamlit app at `base_url` (e.g. http://127.0.0.1:8501), on `path`."""

    def __init__(self, base_url: str, path: str = "/", query: str = "", timeout: float = 60.0):
        self.base = base_url.rstrip("/")
        self.path = "/" + path.strip("/")
        self.query = query
        self.timeout = timeout
        self.http = requests.Session()  # keeps the proxy's affinity cookie, like the browser's jar
        self.ws: websocket.WebSocket | None = None
        self.session_id = ""
        self.page_script_hash = ""
        self.buttons: dict[str, str] = {}  # label -> widget id, as last drawn
        self.text_inputs: dict[str, str] = {}  # label -> widget id, as last drawn
        self.pages: dict[str, str] = {}  # url path ("class") -> page script hash, from st.navigation
        self.fragments: dict[str, float] = {}  # live fragment id -> the browser timer's interval (s)
        self.media_seen: set[bytes] = set()
        self.media_failures: list[str] = []

    # ----- connection ------------------------------------------------------------------------

    def open(self) -> Run:
        """Load the page as a browser does and run its script once; returns that first run."""
        t0 = time.perf_counter()
        for url in (self.base + self.path + (f"?{self.query}" if self.query else ""),
                    self.base + "/_stcore/health", self.base + "/_stcore/host-config"):
            r = self.http.get(url, timeout=self.timeout)
            if r.status_code != 200:
                raise StreamlitError(f"GET {url}: HTTP {r.status_code}")
        self._connect()
        run = self._request(page_name=self.path.strip("/"))
        run.seconds = time.perf_counter() - t0
        return run

    def _connect(self) -> None:
        ws_url = "ws" + self.base[len("http"):] + "/_stcore/stream"
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        # The browser's subprotocol list: "streamlit", the XSRF token (none here), the session to resume.
        protocols = ["streamlit"] + ([" ", self.session_id] if self.session_id else [])
        self.ws = websocket.create_connection(ws_url, timeout=self.timeout, subprotocols=protocols,
                                              header=[f"Cookie: {cookies}"] if cookies else [],
                                              origin=self.base, enable_multithread=False)

    def reconnect(self) -> None:
        """Drop the WebSocket and open a new one that asks to resume this session (what the browser
        does after a network blip). Streamlit then reruns nothing; the next request shows whether
        the session survived (its state is still there) or a new one began."""
        self.drop()
        self._connect()

    def drop(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            except (OSError, websocket.WebSocketException):
                pass
            self.ws = None

    def close(self) -> None:
        self.drop()
        self.http.close()

    # ----- requests --------------------------------------------------------------------------

    def click(self, label: str) -> Run:
        """Press the button labelled `label` (as last drawn); returns the run it caused."""
        wid = self.buttons.get(label)
        if wid is None:
            raise StreamlitError(f"no button {label!r} on {self.path} (buttons: {sorted(self.buttons)})")
        state = WidgetState(id=wid, trigger_value=True)
        return self._request(widgets=[state])

    def switch_page(self, path: str, query: str = "") -> Run:
        """Go to another page of the app in this session (what st.page_link or the sidebar does)."""
        name = path.strip("/")
        if name not in self.pages:
            raise StreamlitError(f"no page {path!r} in the navigation (pages: {sorted(self.pages)})")
        self.path, self.query, self.page_script_hash = "/" + name, query, self.pages[name]
        return self._request()

    def submit_form(self, button: str, texts: dict[str, str]) -> Run:
        """Fill the text inputs labelled in `texts` and press the form's submit button `button`."""
        missing = [label for label in [*texts, button] if label not in {**self.text_inputs, **self.buttons}]
        if missing:
            raise StreamlitError(f"no {missing} on {self.path}")
        states = [WidgetState(id=self.text_inputs[label], string_value=value) for label, value in texts.items()]
        return self._request(widgets=[*states, WidgetState(id=self.buttons[button], trigger_value=True)])

    def tick(self, fragment_id: str | None = None) -> Run:
        """One tick of the browser's timer for a live fragment: the next frame."""
        fid = fragment_id or next(iter(self.fragments), None)
        if fid is None:
            raise StreamlitError(f"no live fragment on {self.path}")
        return self._request(fragment_id=fid, auto=True)

    def rerun(self) -> Run:
        return self._request()

    def _request(self, widgets: list[WidgetState] = (), fragment_id: str = "", auto: bool = False,
                 page_name: str = "") -> Run:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        rs.page_script_hash = self.page_script_hash
        rs.page_name = page_name if not self.page_script_hash else ""
        rs.fragment_id = fragment_id
        rs.is_auto_rerun = auto
        rs.widget_states.widgets.extend(widgets)
        if self.ws is None:
            raise StreamlitError("not connected")
        t0 = time.perf_counter()
        self.ws.send_binary(msg.SerializeToString())
        return self._read_run(t0, fragment=bool(fragment_id))

    def _read_run(self, t0: float, fragment: bool) -> Run:
        """Read until the request's script runs are over: a finish that is not cut short by a rerun."""
        run = Run()
        deadline = t0 + self.timeout
        if not fragment:
            self.buttons, self.text_inputs = {}, {}
        while True:
            if time.perf_counter() > deadline:
                raise StreamlitError(f"no answer within {self.timeout:.0f} s on {self.path}")
            try:
                payload = self.ws.recv()
            except websocket.WebSocketTimeoutException as e:
                raise StreamlitError(f"no answer within {self.timeout:.0f} s on {self.path}") from e
            except (OSError, websocket.WebSocketException) as e:
                raise StreamlitError(f"WebSocket lost on {self.path}: {e}") from e
            if isinstance(payload, str) or not payload:
                continue
            run.bytes += len(payload)
            fm = ForwardMsg.FromString(payload)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                if not fm.metadata.run.fragment_ids:  # a full run: the browser drops every timer; the run sets them again
                    self.fragments = {}
                if fm.new_session.initialize.session_id:
                    self.session_id = fm.new_session.initialize.session_id
            elif kind == "delta":
                run.deltas += 1
                if run.first_delta_seconds is None:
                    run.first_delta_seconds = time.perf_counter() - t0
                self._read_delta(fm, payload, run)
            elif kind == "navigation":  # with st.navigation, the page that ran (new_session names the main script)
                self.page_script_hash = fm.navigation.page_script_hash or self.page_script_hash
                self.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
            elif kind == "auto_rerun":
                self.fragments[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fid in fm.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fid, None)
            elif kind == "page_not_found":
                raise StreamlitError(f"page not found: {self.path}")
            elif kind == "script_finished":
                status = FINISHED.get(fm.script_finished, str(fm.script_finished))
                if status == "compile error":
                    raise StreamlitError(f"the script of {self.path} did not compile")
                if status != "early":
                    run.kind = status
                    run.seconds = time.perf_counter() - t0
                    return run

    def _read_delta(self, fm: ForwardMsg, payload: bytes, run: Run) -> None:
        delta = fm.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        which = el.WhichOneof("type")
        if which == "button":
            self.buttons[el.button.label] = el.button.id
        elif which == "text_input":
            self.text_inputs[el.text_input.label] = el.text_input.id
        elif which == "metric":
            run.metrics[el.metric.label] = el.metric.body
        elif which == "exception":
            run.exceptions.append(f"{el.exception.type}: {el.exception.message}"[:300])
        for url in MEDIA.findall(payload):
            if url not in self.media_seen:  # the browser caches an image it has shown
                self.media_seen.add(url)
                self._fetch_media(url.decode(), run)

    def _fetch_media(self, path: str, run: Run) -> None:
        r = self.http.get(self.base + path, timeout=self.timeout)
        if r.status_code != 200:
            self.media_failures.append(f"GET {path}: HTTP {r.status_code}")
        else:
            run.bytes += len(r.content)
            run.media += 1

