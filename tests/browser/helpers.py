from conftest import PASSWORD


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base_url}/console/")


def map_point(page, map_id: str, lat: float, lon: float) -> tuple[float, float]:
    """Page coordinates of a WGS-84 point on a Leaflet map."""
    x, y = page.evaluate(
        """([id, lat, lon]) => {
            const p = document.getElementById(id)._gezhiMap.latLngToContainerPoint([lat, lon]);
            return [p.x, p.y];
        }""", [map_id, lat, lon])
    box = page.locator(f"#{map_id}").bounding_box()
    return box["x"] + x, box["y"] + y


def click_map(page, map_id: str, lat: float, lon: float) -> None:
    page.mouse.click(*map_point(page, map_id, lat, lon))
