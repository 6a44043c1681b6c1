from __future__ import annotations


def test_home_page_shows_the_practice(client_as, world):
    response = client_as("anonymous").get("/")
    assert response.status_code == 200
    assert b"Harbour Therapy" in response.content


def test_therapist_reaches_the_workspace(client_as, world):
    response = client_as("therapist_a").get("/workspace/")
    assert response.status_code == 200
    assert b"Cora Client" in response.content
