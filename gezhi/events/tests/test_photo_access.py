"""Event photos are served only to those who may see the event, or by a signed link."""

from django.test import Client

from gezhi.events.tests.conftest import jpeg


def test_photo_needs_the_right_to_see_its_event(world, report):
    event = report("resident", photos=[jpeg()], source="resident")
    photo = event.photos.get()
    assert world.client("resident").get(photo.url).status_code == 200
    response = world.client("worker_a1").get(photo.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert world.client("worker_b1").get(photo.url).status_code == 404
    assert Client().get(photo.url).status_code == 404
    assert Client().get(photo.url + "?s=forged").status_code == 404
    assert Client().get(photo.public_url).status_code == 200
    # the stored file is not reachable through the public media folder
    assert Client().get("/media/" + photo.image.name).status_code == 404
